using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Tests.Platform;

public sealed class ProcNetTableTests
{
    private static List<ProcNetSocket> Parse(string text, ProtocolType protocol) => ProcNetTable.Parse(text, protocol).ToList();

    [Fact]
    public void ReadsTcpSocketsWithTheirStates()
    {
        var sockets = Parse(ProcNetCaptures.Tcp, ProtocolType.Tcp);
        Assert.Equal(4, sockets.Count);
        Assert.Equal(new IpEndpoint(IpAddress.Parse("0.0.0.0"), 8080), sockets[0].Local);
        Assert.Equal(KernelTcpState.Listen, sockets[0].State);
        Assert.Equal(new IpEndpoint(IpAddress.Parse("127.0.0.1"), 5432), sockets[1].Local);
        Assert.Equal(KernelTcpState.Established, sockets[2].State);
        Assert.Equal(8080, sockets[2].Remote.Port);
        Assert.Equal(IpAddress.Parse("127.0.0.1"), sockets[2].Remote.Address);
        Assert.True(sockets[0].Inode > 0);
        Assert.Equal([true, true, false, false], sockets.Select(s => s.IsListening));
    }

    [Fact]
    public void ReadsIpv6AddressesWordByWord()
    {
        var sockets = Parse(ProcNetCaptures.Tcp6, ProtocolType.Tcp);
        Assert.Equal(["[::1]:6379", "[::]:443"], sockets.Select(s => s.Local.ToString()));
        Assert.All(sockets, s => Assert.True(s.IsListening));
        var udp = Parse(ProcNetCaptures.Udp6, ProtocolType.Udp);
        Assert.Equal(["[::]:547", "[::1]:1053", "127.0.0.1:1054"], udp.Select(s => s.Local.ToString()));
    }

    [Fact]
    public void AUdpSocketListensWhenItIsBoundAndUnconnected()
    {
        var sockets = Parse(ProcNetCaptures.Udp, ProtocolType.Udp);
        Assert.Equal(2, sockets.Count);
        Assert.Equal(53, sockets[0].Local.Port);
        Assert.Equal(KernelTcpState.Close, sockets[0].State);
        Assert.True(sockets[0].IsListening);
        // Bound to 5353 and connected to 127.0.0.1:53: the kernel calls it established.
        Assert.Equal(5353, sockets[1].Local.Port);
        Assert.Equal(KernelTcpState.Established, sockets[1].State);
        Assert.False(sockets[1].IsListening);
    }

    [Fact]
    public void ATcpSocketListensOnlyInListen()
    {
        var closed = new ProcNetSocket(ProtocolType.Tcp, new IpEndpoint(IpAddress.Parse("0.0.0.0"), 80), default, KernelTcpState.Close, 1);
        Assert.False(closed.IsListening);
        Assert.True((closed with { State = KernelTcpState.Listen }).IsListening);
        Assert.False((closed with { State = KernelTcpState.TimeWait }).IsListening);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  sl  local_address rem_address   st\n")]
    [InlineData("header\n   0: 0100007F:1F90 00000000:0000 0A\n")]                   // too few fields
    [InlineData("header\n   0: 0100007F:1F9 00000000:0000 0A 0 0 0 0 0 1\n")]         // a 3-digit port
    [InlineData("header\n   0: 100007F:1F90 00000000:0000 0A 0 0 0 0 0 1\n")]         // a 7-digit address
    [InlineData("header\n   0: 0100007G:1F90 00000000:0000 0A 0 0 0 0 0 1\n")]        // not hex
    [InlineData("header\n   0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 inode\n")]    // no inode
    public void LinesThatCannotBeReadAreSkipped(string text) => Assert.Empty(Parse(text, ProtocolType.Tcp));

    [Fact]
    public void AMissingTableIsEmpty() =>
        Assert.Empty(ProcNetTable.Read(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")), ProtocolType.Tcp));

    [Fact]
    public void OurOwnListenerIsInOurOwnTable()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        Assert.Contains(ProcNetTable.Read("/proc/net", ProtocolType.Tcp),
            s => s.Local.Port == port && s.Local.Address == IpAddress.Parse("127.0.0.1") && s.IsListening);
    }
}
