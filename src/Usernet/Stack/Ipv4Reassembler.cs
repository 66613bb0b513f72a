using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// Puts guest IPv4 fragments back together (RFC 791 §3.2), within limits the guest cannot
/// push past: see <see cref="FragmentTable{TKey}"/> for the table and its bounds and
/// <see cref="FragmentBuffer"/> for the rules on overlaps, duplicates and lengths. Time is an
/// argument; the owner calls <see cref="Expire"/> at <see cref="NextExpiry"/>.
/// </summary>
internal sealed class Ipv4Reassembler
{
    // RFC 791 §3.2: fragments belong together by source, destination, protocol and identification.
    private readonly record struct Key(Ipv4Address Source, Ipv4Address Destination, byte Protocol, ushort Identification);

    private const int MaxHeaderLength = 60;

    private readonly FragmentTable<Key> _table;

    public Ipv4Reassembler(ReassemblyLimits limits) =>
        _table = new FragmentTable<Key>(limits, Ipv4Packet.MinHeaderLength, MaxHeaderLength, Ipv4Packet.MaxPacketLength);

    public Instant NextExpiry => _table.NextExpiry;

    public int PendingCount => _table.PendingCount;

    public ReassemblyCounters Counters => _table.Counters;

    /// <summary>
    /// Takes one fragment: a packet that passed <see cref="Ipv4Packet.TryParse"/> and has
    /// <see cref="Ipv4Packet.IsFragment"/> set. On Complete, <paramref name="datagram"/> is the
    /// whole packet: the header of the first fragment (options and all) with MF clear, offset 0,
    /// Total Length and checksum refilled, then the payload. It stays valid until the next call.
    /// </summary>
    public ReassemblyOutcome Accept(Ipv4Packet fragment, Instant now, out Span<byte> datagram)
    {
        if (!fragment.IsFragment)
        {
            _table.Expire(now);
            Counters.DroppedMalformed++;
            datagram = default;
            return ReassemblyOutcome.Dropped;
        }
        var key = new Key(fragment.Source, fragment.Destination, fragment.Protocol, fragment.Identification);
        ReassemblyOutcome outcome = _table.Add(
            key, now, fragment.FragmentOffset, fragment.Payload, isLast: !fragment.MoreFragments, fragment.Header,
            out datagram);
        if (outcome != ReassemblyOutcome.Complete)
        {
            return outcome;
        }
        var packet = new Ipv4Packet(datagram)
        {
            TotalLength = datagram.Length,
            MoreFragments = false,
            FragmentOffset = 0,
        };
        packet.FillChecksum();
        return outcome;
    }

    /// <summary>Drops the datagrams that have waited Timeout for their missing fragments.</summary>
    public void Expire(Instant now) => _table.Expire(now);
}
