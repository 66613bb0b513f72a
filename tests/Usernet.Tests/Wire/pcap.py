"""Reads the frames of the classic pcap files that tcpdump writes, and writes them as C# constants,
for the captures-to-cs scripts."""
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


def emit(name, comment, frame):
    """Prints one frame as a C# property returning a fresh array, 48 bytes of hex a line."""
    print(f"    /// <summary>{comment.replace('&', '&amp;').replace('<', '&lt;')}</summary>")
    print(f"    public static byte[] {name} => Hex(\"\"\"")
    h = frame.hex()
    for i in range(0, len(h), 96):
        print("        " + h[i:i+96])
    print("        \"\"\");")
    print()
