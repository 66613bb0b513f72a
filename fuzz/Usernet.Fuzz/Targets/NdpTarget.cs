using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// Neighbor and router discovery (RFC 4861) into an instance in memory: the input gives the
/// ICMPv6 messages' bytes after the type, and picks the type, the addresses and the hop
/// limit from short lists, and the target wraps each in a well-formed IPv6 frame with a right
/// checksum, so that every input reaches the NDP code rather than the checks before it. Then
/// the tables are within their limits and the probe is answered.
/// </summary>
internal sealed class NdpTarget : IFuzzTarget
{
    private static readonly byte[] Types =
    [
        Icmpv6Type.NeighborSolicitation, Icmpv6Type.NeighborAdvertisement, Icmpv6Type.RouterSolicitation,
        Icmpv6Type.RouterAdvertisement, Icmpv6Type.Redirect, Icmpv6Type.EchoRequest,
    ];

    private static readonly Ipv6Address[] Addresses =
    [
        Ipv6Address.Parse("::"),
        Ipv6Address.Parse("fe80::18:5ff:fe00:a"),
        Ipv6Address.Parse("fdc4:f303:9324::3"),
        FuzzNetwork.StackOptions.GatewayLinkLocal,
        FuzzNetwork.StackOptions.GatewayV6,
        FuzzNetwork.StackOptions.HostV6,
        FuzzNetwork.StackOptions.GatewayLinkLocal.SolicitedNode,
        FuzzNetwork.StackOptions.GatewayV6.SolicitedNode,
        Ipv6Address.Parse("ff02::1"),
        Ipv6Address.Parse("ff02::2"),
        Ipv6Address.Parse("2001:2::1"),
        Ipv6Address.Parse("fe80::1"),
    ];

    private static readonly MacAddress[] Macs = [new(0x02_18_05_00_00_0a), new(0x02_18_05_00_00_0b)];

    private readonly byte[] _frame = new byte[EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + 2048];

    public void Run(ReadOnlySpan<byte> data)
    {
        var network = new FuzzNetwork();
        var input = new FuzzInput(data);
        for (int messages = 0; !input.IsEmpty && messages < 256; messages++)
        {
            byte choice = input.Byte();
            byte addresses = input.Byte();
            byte hopLimit = (choice & 0x80) != 0 ? input.Byte() : (byte)255;
            var source = Addresses[addresses % Addresses.Length];
            var destination = Addresses[(addresses >> 4) % Addresses.Length];
            var body = input.Block(2048 - 1);
            int length = 1 + body.Length;
            var frame = _frame.AsSpan(0, EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + length);
            var ethernetDestination = destination.IsMulticast ? MacAddress.ForIpv6Multicast(destination) : FuzzNetwork.StackOptions.Mac;
            EthernetFrame.WriteHeader(frame, ethernetDestination, Macs[(choice >> 6) & 1], EtherType.Ipv6);
            var packet = frame[EthernetFrame.HeaderLength..];
            Ipv6Packet.WriteHeader(packet, source, destination, IpProtocol.Icmpv6, length, hopLimit);
            packet[Ipv6Packet.HeaderLength] = Types[(choice & 0x3F) % Types.Length];
            body.CopyTo(packet[(Ipv6Packet.HeaderLength + 1)..]);
            FrameChecksums.Fix(frame);
            network.Receive(network.Guests[(choice >> 6) & 1], frame);
            if ((choice & 0x20) != 0)
            {
                network.Advance(TimeSpan.FromSeconds(input.Byte()));
            }
        }
        network.CheckBounds();
        network.Probe();
    }
}
