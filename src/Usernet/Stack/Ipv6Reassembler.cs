using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// Puts guest IPv6 fragments back together (RFC 8200 §4.5), with the same table and limits as
/// IPv4. The reassembled packet is the fixed header, its Next Header set to what followed the
/// fragment header, then the payload: extension headers before the fragment header (hop-by-hop
/// options, say) matter to no one after reassembly and are not kept. An atomic fragment (offset
/// 0, no more) is a whole packet and never touches the table (RFC 6946 §4).
/// </summary>
internal sealed class Ipv6Reassembler
{
    // RFC 8200 §4.5: fragments belong together by source, destination and identification.
    private readonly record struct Key(Ipv6Address Source, Ipv6Address Destination, uint Identification);

    private readonly FragmentTable<Key> _table;
    private readonly byte[] _header = new byte[Ipv6Packet.HeaderLength];

    public Ipv6Reassembler(ReassemblyLimits limits) =>
        _table = new FragmentTable<Key>(limits, Ipv6Packet.HeaderLength, Ipv6Packet.HeaderLength, Ipv6Packet.HeaderLength + 65535);

    public Instant NextExpiry => _table.NextExpiry;

    public int PendingCount => _table.PendingCount;

    public ReassemblyCounters Counters => _table.Counters;

    public ReassemblyOutcome Accept(Ipv6Packet packet, scoped in Ipv6FragmentHeader fragment, Instant now, out Span<byte> datagram)
    {
        if (fragment.Offset == 0 && !fragment.MoreFragments)
        {
            datagram = Unwrap(packet, fragment);
            return ReassemblyOutcome.Complete;
        }
        packet.Buffer[..Ipv6Packet.HeaderLength].CopyTo(_header);
        _header[6] = packet.Buffer[fragment.HeaderOffset];
        var payload = packet.Buffer[(fragment.HeaderOffset + 8)..];
        var key = new Key(packet.Source, packet.Destination, fragment.Identification);
        var outcome = _table.Add(key, now, fragment.Offset, payload, !fragment.MoreFragments, _header, out datagram);
        if (outcome == ReassemblyOutcome.Complete)
        {
            new Ipv6Packet(datagram).PayloadLength = datagram.Length - Ipv6Packet.HeaderLength;
        }
        return outcome;
    }

    public void Expire(Instant now) => _table.Expire(now);

    /// <summary>
    /// An atomic fragment as the packet it is, in place: the fixed header moves up to sit just
    /// before the payload, over the fragment header (and any extension headers before it), so
    /// a pending datagram with the same identification is left alone and nothing is copied but
    /// 40 bytes.
    /// </summary>
    private static Span<byte> Unwrap(Ipv6Packet packet, scoped in Ipv6FragmentHeader fragment)
    {
        Span<byte> buffer = packet.Buffer;
        byte nextHeader = buffer[fragment.HeaderOffset];
        int start = fragment.HeaderOffset + 8 - Ipv6Packet.HeaderLength;
        buffer[..Ipv6Packet.HeaderLength].CopyTo(buffer[start..]);
        var whole = new Ipv6Packet(buffer[start..])
        {
            NextHeader = nextHeader,
            PayloadLength = buffer.Length - start - Ipv6Packet.HeaderLength,
        };
        return whole.Buffer;
    }
}
