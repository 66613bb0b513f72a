using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>Guest ICMPv6 ping to anywhere but the stack; given by the <see cref="Builder"/>.</summary>
    public IIpTransport? IcmpNat6 { get; private set; }

    private void ReceiveIcmpv6(Ipv6Packet ip, Span<byte> payload, bool toStack, bool multicast, FrameLink from, Instant now)
    {
        ulong pseudo = InternetChecksum.PseudoHeaderV6(ip.Source, ip.Destination, IpProtocol.Icmpv6, payload.Length);
        if (!Icmpv6Message.TryParse(payload, pseudo, out var message, out bool checksumValid))
        {
            Counters.Drop(DropReason.Icmpv6Malformed);
            return;
        }
        if (!checksumValid)
        {
            Counters.Drop(DropReason.Icmpv6BadChecksum);
            return;
        }
        switch (message.Type)
        {
            case Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement or Icmpv6Type.RouterSolicitation:
                ReceiveNdp(ip, message, from);
                return;
            case Icmpv6Type.EchoRequest when toStack:
                if (!RefusesEcho(new IpPacketView(ip.Source, ip.Destination, IpProtocol.Icmpv6, ip.HopLimit, payload, ip.Buffer), now))
                {
                    ReplyToEcho(ip, payload);
                }
                return;
            case Icmpv6Type.EchoRequest when !multicast:
                if (IcmpNat6 is null)
                {
                    Counters.Drop(DropReason.Ipv6NoRoute);
                    SendIcmpv6Error(Icmpv6Type.DestinationUnreachable, Icmpv6Code.NoRoute, 0, ip.Buffer, Options.GatewayV6, now);
                    return;
                }
                IcmpNat6.Receive(new IpPacketView(ip.Source, ip.Destination, IpProtocol.Icmpv6, ip.HopLimit, payload, ip.Buffer) { LinkId = from.Id }, now);
                return;
            case Icmpv6Type.MulticastListenerReport or Icmpv6Type.MulticastListenerReportV2 or Icmpv6Type.MulticastListenerDone
                or Icmpv6Type.RouterAdvertisement:
                // Multicast listener reports and other routers' advertisements concern nobody here.
                Counters.Drop(DropReason.NotForUs);
                return;
            default:
                Counters.Drop(DropReason.IcmpUnsupported);
                return;
        }
    }

    private void ReplyToEcho(Ipv6Packet ip, Span<byte> request)
    {
        int length = request.Length;
        Span<byte> reply = Ipv6Payload[..length];
        request.CopyTo(reply);
        var message = new Icmpv6Message(reply) { Type = Icmpv6Type.EchoReply, Code = 0 };
        message.FillChecksum(InternetChecksum.PseudoHeaderV6(ip.Destination, ip.Source, IpProtocol.Icmpv6, length));
        Counters.EchoRepliesSent++;
        SendIpv6(ip.Destination, ip.Source, IpProtocol.Icmpv6, length, mayFragment: true);
    }

    /// <summary>
    /// Sends an ICMPv6 error about <paramref name="offending"/> (a whole IPv6 packet) back to its
    /// source: never about an ICMPv6 error, a multicast destination or an unspecified source
    /// (RFC 4443 §2.4(e)), quoting as much as fits in the minimum MTU, rate limited.
    /// </summary>
    private void SendIcmpv6Error(byte type, byte code, uint word, ReadOnlySpan<byte> offending, Ipv6Address from, Instant now)
    {
        if (offending.Length < Ipv6Packet.HeaderLength)
        {
            return;
        }
        var source = Ipv6Address.Read(offending[8..]);
        var destination = Ipv6Address.Read(offending[24..]);
        if (source.IsUnspecified || source.IsMulticast || (destination.IsMulticast && type != Icmpv6Type.PacketTooBig))
        {
            return;
        }
        if (offending[6] == IpProtocol.Icmpv6 && offending.Length > Ipv6Packet.HeaderLength && Icmpv6Message.IsErrorType(offending[Ipv6Packet.HeaderLength]))
        {
            return;
        }
        if (!_icmpErrorBudget.TryTake(now))
        {
            Counters.Drop(DropReason.IcmpRateLimited);
            return;
        }
        int quoted = Math.Min(offending.Length, MinimumIpv6Mtu - Ipv6Packet.HeaderLength - Icmpv6Message.HeaderLength);
        int length = Icmpv6Message.HeaderLength + quoted;
        Span<byte> payload = Ipv6Payload[..length];
        offending[..quoted].CopyTo(payload[Icmpv6Message.HeaderLength..]);
        var message = new Icmpv6Message(payload) { Type = type, Code = code, Word = word };
        message.FillChecksum(InternetChecksum.PseudoHeaderV6(from, source, IpProtocol.Icmpv6, length));
        Counters.IcmpErrorsSent++;
        SendIpv6(from, source, IpProtocol.Icmpv6, length);
    }
}
