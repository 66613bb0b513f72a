using Usernet.Services.Dhcp6;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Issue 12: a DHCPv6 Solicit with a few dozen IA_NA made the server write its reply past its
/// buffer, and the exception closed the link it came on, for good. Under `usernet run` the
/// guest's command went on with "Network is unreachable"; under `serve`, a datagram listener
/// died for every VM behind it. Now the reply is bounded, and the link, and every other, carries on.
/// </summary>
public sealed class ManyIaSolicitTests : IDisposable
{
    /// <summary>More than the 1500-byte reply holds at 44 bytes an IA (about 33).</summary>
    private const int IaCount = 40;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-ia-");

    public void Dispose() => _directory.Delete(recursive: true);

    [RootFact]
    public void AGuestsDhclientAskingForFortyAddressesLeavesItsLinkWorking()
    {
        using var session = GuestSession.Start();
        // ISC dhclient puts one IA_NA in its Solicit for each -N.
        string[] dhclient = ["timeout", "10", "dhclient", "-6", "-1", .. Enumerable.Repeat("-N", IaCount), "-lf", "/dev/null", "-pf", "/dev/null", "-sf", "/bin/true", "tap0"];
        var lease = session.Exec(dhclient);

        var ping = session.Exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1"]);
        Assert.True(ping.ExitCode == 0, $"{ping}\n--- dhclient\n{lease}\n--- usernet\n{session.Stderr}");
        Assert.True(lease.ExitCode == 0, lease.ToString());
        var stats = session.Stats();
        var dhcp6 = stats.GetProperty("dhcp6");
        Assert.Equal(Dhcpv6Server.MaxIasPerMessage, dhcp6.GetProperty("leases").GetInt32());
        Assert.True(dhcp6.GetProperty("iasIgnored").GetInt64() >= IaCount - Dhcpv6Server.MaxIasPerMessage, stats.ToString());
        Assert.Equal(1, stats.GetProperty("links").GetArrayLength());
        Assert.Equal(0, stats.GetProperty("loopFaults").GetInt64());
    }

    [RootFact]
    public void UnderServeTheOtherGuestsOfTheDatagramListenerKeepWorking()
    {
        string socket = Path.Combine(_directory.FullName, "usernet-dgram.sock");
        using var serve = ServeInstance.Start("--listen-dgram", $"unixgram:{socket}");
        using var hostile = new DatagramPeer(
            Path.Combine(_directory.FullName, "hostile.sock"), socket, new MacAddress(0x52_54_00_12_34_0A), Ipv4Address.Parse("192.168.65.10"));
        using var other = new DatagramPeer(
            Path.Combine(_directory.FullName, "other.sock"), socket, new MacAddress(0x52_54_00_12_34_0B), Ipv4Address.Parse("192.168.65.11"));
        var timeout = TimeSpan.FromSeconds(5);
        Assert.True(hostile.PingGateway(1, timeout), serve.Stderr);
        Assert.True(other.PingGateway(1, timeout), serve.Stderr);

        Assert.True(hostile.Send(SolicitWithManyIas(hostile.Mac)));

        Assert.True(other.PingGateway(2, timeout), $"the other guest lost its link\n{serve.Stderr}");
        Assert.True(hostile.PingGateway(2, timeout), $"the sender lost its link\n{serve.Stderr}");
        var stats = serve.Stats();
        Assert.Equal(2, stats.GetProperty("links").GetArrayLength());
        Assert.True(stats.GetProperty("dhcp6").GetProperty("iasIgnored").GetInt64() >= IaCount - Dhcpv6Server.MaxIasPerMessage, stats.ToString());
        Assert.Equal(0, stats.GetProperty("switch").GetProperty("linksClosed").GetInt64());
        Assert.Equal(0, stats.GetProperty("loopFaults").GetInt64());
    }

    /// <summary>A Solicit to All_DHCP_Relay_Agents_and_Servers with <see cref="IaCount"/> IA_NA, from a link-local address.</summary>
    private static byte[] SolicitWithManyIas(MacAddress mac)
    {
        byte[] buffer = new byte[Dhcpv6Message.HeaderLength + 1024];
        var message = new Dhcpv6Message(buffer) { Type = Dhcpv6MessageType.Solicit, TransactionId = 0x12_3456 };
        var writer = new Dhcpv6OptionWriter(message.Options);
        // DUID-LL (RFC 8415 §11.4): type 3, Ethernet, the MAC.
        byte[] duid = [0, 3, 0, 1, 0, 0, 0, 0, 0, 0];
        mac.Write(duid.AsSpan(4));
        writer.Write(Dhcpv6Option.ClientId, duid);
        writer.Write(Dhcpv6Option.ElapsedTime, [0, 0]);
        for (uint iaid = 1; iaid <= IaCount; iaid++)
        {
            int ia = writer.Open(Dhcpv6Option.IaNa);
            writer.WriteUInt32(iaid);
            writer.WriteUInt32(0);
            writer.WriteUInt32(0);
            writer.Close(ia);
        }
        Assert.False(writer.Overflowed);
        return NatHarness.UdpFrame(
            new IpEndpoint(Ipv6Address.Parse("fe80::5054:ff:fe12:340a"), Dhcpv6Message.ClientPort),
            new IpEndpoint(Dhcpv6Message.AllServers, Dhcpv6Message.ServerPort),
            buffer.AsSpan(0, Dhcpv6Message.HeaderLength + writer.Length), mac);
    }
}
