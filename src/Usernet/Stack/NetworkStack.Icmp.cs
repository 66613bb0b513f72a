using Usernet.Link;
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

    /// <summary>Where a quote of a packet no longer at hand is rebuilt: an IPv6 (or IPv4) header and 8 bytes.</summary>
    private readonly byte[] _rebuiltQuote = new byte[Ipv6Packet.HeaderLength + RebuiltTransportLength];

    /// <summary>What RFC 792 asks an error to quote after the IP header: the first 64 bits of the datagram.</summary>
    private const int RebuiltTransportLength = 8;

    private void ReceiveIcmpV4(Ipv4Packet ip, bool toStack, FrameLink from, Instant now)
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
            IcmpNat.Receive(new IpPacketView(ip) { LinkId = from.Id }, now);
            return;
        }
        if (icmp.Type == IcmpV4Type.EchoReply)
        {
            OnEchoReply(ip.Source, icmp.Identifier, icmp.SequenceNumber, now);
            return;
        }
        if (icmp.Type != IcmpV4Type.EchoRequest || ip.Source.IsUnspecified)
        {
            // A host with no address yet cannot be answered (RFC 1122 §3.2.1.3).
            // Errors and replies addressed to the stack itself have nothing to answer.
            Counters.Drop(DropReason.IcmpUnsupported);
            return;
        }
        if (RefusesEcho(new IpPacketView(ip), now))
        {
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
    /// The stack answers echo for the host address itself (the host's loopback would answer
    /// the same, with no socket needed), but only while the address stands for the loopback:
    /// with hostLoopback off nothing is behind it, and <see cref="EgressRule"/> refuses it.
    /// </summary>
    private bool RefusesEcho(IpPacketView request, Instant now)
    {
        var memo = default(global::Usernet.Stack.Egress.EgressMemo);
        var verdict = EgressRule.Decide(Options, Egress.Policy, Egress.Names, global::Usernet.Stack.Egress.EgressProtocols.Icmp, new IpEndpoint(request.Destination, 0), null, now, ref memo, out _);
        if (verdict is not (EgressVerdict.Refused or EgressVerdict.Denied))
        {
            return false;
        }
        Counters.Drop(verdict == EgressVerdict.Denied ? DropReason.EgressDenied : DropReason.EgressRefused);
        SendIcmpError(IcmpError.Prohibited(request.Source), request, Options.GatewayOf(request.Source), now);
        return true;
    }

    /// <summary>
    /// Sends the guest an ICMP or ICMPv6 error, from <paramref name="from"/>, about a packet it
    /// sent that is still at hand: the error quotes as much of it as fits in 576 bytes for IPv4
    /// (RFC 1812 §4.3.2.3) or the minimum MTU of 1280 for IPv6 (RFC 4443 §2.4(c)). The rules
    /// on what never gets an error, and the rate limit, are those of the family.
    /// </summary>
    public void SendIcmpError(IcmpError error, IpPacketView offending, IpAddress from, Instant now)
    {
        if (from.IsV4 != offending.IsV4)
        {
            return;
        }
        if (offending.IsV4)
        {
            SendIcmpV4Error(error.Type, error.Code, NextHopMtu(error), new Ipv4Packet(offending.Packet), from.V4, now);
        }
        else
        {
            SendIcmpv6Error(error.Type, error.Code, Icmpv6Word(error), offending.Packet, from.V6, now);
        }
    }

    /// <summary>
    /// Sends the guest an error about a packet of one of its flows that is no longer at hand
    /// (the host reported the error later, or it concerns the SYN that opened a connection).
    /// The quote is rebuilt from the flow's addresses and <paramref name="transportHead"/>, the
    /// first 8 bytes of the transport header: what RFC 792 asks for at least, and all the
    /// guest's stack needs to find the socket (ports, TCP sequence, echo identifier).
    /// </summary>
    public void SendIcmpError(
        IcmpError error, IpAddress guest, IpAddress destination, byte protocol, ReadOnlySpan<byte> transportHead,
        IpAddress from, Instant now)
    {
        if (from.IsV4 != guest.IsV4 || destination.IsV4 != guest.IsV4 || transportHead.Length != RebuiltTransportLength)
        {
            return;
        }
        Span<byte> quote = _rebuiltQuote;
        if (guest.IsV4)
        {
            Ipv4Packet.WriteHeader(quote, guest.V4, destination.V4, protocol, RebuiltTransportLength, 0);
            transportHead.CopyTo(quote[Ipv4Packet.MinHeaderLength..]);
            var packet = new Ipv4Packet(quote[..(Ipv4Packet.MinHeaderLength + RebuiltTransportLength)]);
            SendIcmpV4Error(error.Type, error.Code, NextHopMtu(error), packet, from.V4, now);
            return;
        }
        Ipv6Packet.WriteHeader(quote, guest.V6, destination.V6, protocol, RebuiltTransportLength, 64);
        transportHead.CopyTo(quote[Ipv6Packet.HeaderLength..]);
        SendIcmpv6Error(error.Type, error.Code, Icmpv6Word(error), quote, from.V6, now);
    }

    private static ushort NextHopMtu(IcmpError error) =>
        error is { Type: IcmpV4Type.DestinationUnreachable, Code: IcmpV4Code.FragmentationNeeded } ? (ushort)error.Info : (ushort)0;

    private static uint Icmpv6Word(IcmpError error) => error.Type == Icmpv6Type.PacketTooBig ? error.Info : 0;

    /// <summary>
    /// Sends an ICMP error about <paramref name="offending"/> back to its source, from
    /// <paramref name="from"/>. Never about an ICMP error, a fragment other than the first, or a
    /// broadcast (RFC 1122 §3.2.2), and rate limited.
    /// </summary>
    private void SendIcmpV4Error(byte type, byte code, ushort nextHopMtu, Ipv4Packet offending, Ipv4Address from, Instant now)
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
