using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Services.Forwarding;
using Usernet.Tests.Platform;

namespace Usernet.Tests.Services.Forwarding;

public sealed class AutoPublisherTests
{
    [Fact]
    public void PublishesListenersNotOnLoopback()
    {
        var sockets = ProcNetTable.Parse(ProcNetCaptures.Tcp, ProtocolType.Tcp)
            .Concat(ProcNetTable.Parse(ProcNetCaptures.Tcp6, ProtocolType.Tcp))
            .Concat(ProcNetTable.Parse(ProcNetCaptures.Udp, ProtocolType.Udp))
            .Concat(ProcNetTable.Parse(ProcNetCaptures.Udp6, ProtocolType.Udp));
        // Not 5432, 6379, 1053 or 1054 (loopback, also as ::ffff:127.0.0.1), not the connection
        // on 8080's other end, and not 5353 (a connected UDP socket).
        Assert.Equal(
            new[] { (53, PublishProtocol.Udp), (443, PublishProtocol.Tcp), (547, PublishProtocol.Udp), (8080, PublishProtocol.Tcp) },
            AutoPublisher.Listeners(sockets).OrderBy(l => l.Item1));
    }

    [Fact]
    public void LeavesOutUdpPortsInTheEphemeralRange()
    {
        var client = ProcNetTable.Parse("header\n   0: 00000000:8000 00000000:0000 07 0 0 0 0 0 1\n", ProtocolType.Udp);
        var server = ProcNetTable.Parse("header\n   0: 00000000:8000 00000000:0000 0A 0 0 0 0 0 1\n", ProtocolType.Tcp);
        Assert.Equal([(32768, PublishProtocol.Tcp)], AutoPublisher.Listeners(client.Concat(server)));
    }
}
