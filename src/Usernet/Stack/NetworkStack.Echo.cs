using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>
    /// Takes an echo reply addressed to the stack's own address (the answer to
    /// <see cref="SendEchoRequest"/>): from, identifier, sequence number; false for one that
    /// answers no request of ours, which is dropped and counted as any other stray ICMP.
    /// </summary>
    public Func<IpAddress, ushort, ushort, Instant, bool>? EchoReplyReceived { get; set; }

    /// <summary>
    /// Sends an echo request (RFC 792, RFC 4443 §4.1) from the gateway to <paramref name="destination"/>:
    /// a guest, or an address behind one (see <see cref="Routes"/>). <paramref name="dataLength"/>
    /// bytes of data follow the header, as ping sends 56.
    /// </summary>
    public bool SendEchoRequest(IpAddress destination, ushort identifier, ushort sequence, int dataLength)
    {
        int length = IcmpV4Message.HeaderLength + dataLength;
        if (destination.IsV4)
        {
            Span<byte> request = Ipv4Payload[..length];
            request.Clear();
            var message = new IcmpV4Message(request) { Type = IcmpV4Type.EchoRequest, Code = 0, Identifier = identifier, SequenceNumber = sequence };
            message.FillChecksum();
            return SendIpv4(Options.Gateway, destination.V4, IpProtocol.Icmp, length, dontFragment: false);
        }
        Span<byte> request6 = Ipv6Payload[..length];
        request6.Clear();
        var message6 = new Icmpv6Message(request6) { Type = Icmpv6Type.EchoRequest, Code = 0, Identifier = identifier, SequenceNumber = sequence };
        message6.FillChecksum(InternetChecksum.PseudoHeaderV6(Options.GatewayV6, destination.V6, IpProtocol.Icmpv6, length));
        return SendIpv6(Options.GatewayV6, destination.V6, IpProtocol.Icmpv6, length, mayFragment: true);
    }

    private void OnEchoReply(IpAddress from, ushort identifier, ushort sequence, Instant now)
    {
        if (EchoReplyReceived?.Invoke(from, identifier, sequence, now) != true)
        {
            Counters.Drop(DropReason.IcmpUnsupported);
            return;
        }
        Counters.EchoRepliesReceived++;
    }
}
