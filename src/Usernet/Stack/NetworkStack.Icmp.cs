using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>ICMP errors the stack sends a second (RFC 1812 §4.3.2.8 asks for a limit).</summary>
    private const double IcmpErrorsPerSecond = 200;
    private const double IcmpErrorBurst = 50;

    /// <summary>How much of the offending packet an error quotes: its header and more, within 576 bytes (RFC 1812 §4.3.2.3).</summary>
    private const int MaxQuote = 576 - Ipv4Packet.MinHeaderLength - IcmpV4Message.HeaderLength;

    private readonly TokenBucket _icmpErrorBudget;

    private void ReceiveIcmpV4(Ipv4Packet ip, bool toStack, Instant now)
    {
        if (!IcmpV4Message.TryParse(ip.Payload, out var icmp, out bool checksumValid))
        {
            Counters.Drop(DropReason.IcmpMalformed);
            return;
        }
        if (!checksumValid)
        {
            Counters.Drop(DropReason.IcmpBadChecksum);
            return;
        }
        if (!toStack)
        {
            if (IcmpNat is null)
            {
                Counters.Drop(DropReason.Ipv4NoRoute);
                SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable, 0, ip, Options.Gateway, now);
                return;
            }
            IcmpNat.Receive(new IpPacketView(ip), now);
            return;
        }
        if (icmp.Type != IcmpV4Type.EchoRequest || ip.Source.IsUnspecified)
        {
            // A host with no address yet cannot be answered (RFC 1122 §3.2.1.3).
            // Errors and replies addressed to the stack itself have nothing to answer.
            Counters.Drop(DropReason.IcmpUnsupported);
            return;
        }
        int length = ip.Payload.Length;
        Span<byte> reply = Ipv4Payload[..length];
        ip.Payload.CopyTo(reply);
        var message = new IcmpV4Message(reply)
        {
            Type = IcmpV4Type.EchoReply,
            Code = 0,
        };
        message.FillChecksum();
        Counters.EchoRepliesSent++;
        SendIpv4(ip.Destination, ip.Source, IpProtocol.Icmp, length, dontFragment: false);
    }

    /// <summary>
    /// Sends an ICMP error about <paramref name="offending"/> back to its source, from
    /// <paramref name="from"/>. Never about an ICMP error, a fragment other than the first, or a
    /// broadcast (RFC 1122 §3.2.2), and rate limited.
    /// </summary>
    public void SendIcmpV4Error(byte type, byte code, ushort nextHopMtu, Ipv4Packet offending, Ipv4Address from, Instant now)
    {
        if (offending.FragmentOffset != 0 || offending.Destination.IsBroadcast || offending.Destination.IsMulticast
            || offending.Source.IsUnspecified)
        {
            return;
        }
        if (offending.Protocol == IpProtocol.Icmp && offending.Payload.Length > 0
            && offending.Payload[0] is not (IcmpV4Type.EchoRequest or IcmpV4Type.EchoReply))
        {
            return;
        }
        if (!_icmpErrorBudget.TryTake(now))
        {
            Counters.Drop(DropReason.IcmpRateLimited);
            return;
        }
        int quoted = Math.Min(offending.Buffer.Length, MaxQuote);
        int length = IcmpV4Message.HeaderLength + quoted;
        Span<byte> payload = Ipv4Payload[..length];
        payload[..IcmpV4Message.HeaderLength].Clear();
        offending.Buffer[..quoted].CopyTo(payload[IcmpV4Message.HeaderLength..]);
        var message = new IcmpV4Message(payload)
        {
            Type = type,
            Code = code,
        };
        if (nextHopMtu != 0)
        {
            message.NextHopMtu = nextHopMtu;
        }
        message.FillChecksum();
        Counters.IcmpErrorsSent++;
        SendIpv4(from, offending.Source, IpProtocol.Icmp, length, dontFragment: false);
    }
}
