"""Reads the frames of the classic pcap files that tcpdump writes, for the captures-to-cs scripts."""
import struct


def frames(path):
    """The frames of a classic little-endian pcap file, in order."""
    d = open(path, 'rb').read()
    magic = struct.unpack('<I', d[:4])[0]
    assert magic == 0xa1b2c3d4, hex(magic)
    off = 24
    out = []
    while off < len(d):
        ts, tu, incl, orig = struct.unpack('<IIII', d[off:off+16])
        off += 16
        out.append(d[off:off+incl])
        off += incl
    return out
