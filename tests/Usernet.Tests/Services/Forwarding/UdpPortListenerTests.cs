using System.Net;
using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Services.Forwarding;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Services.Forwarding;

/// <summary>
/// A published UDP port's clients: real UDP sockets on the host's loopback write to the
/// listener's socket, and the stack in memory carries their datagrams to the guest; time is
/// explicit, the loop is never run. The table of clients is capped, least recently used first
/// out, and expires idle clients; each is counted.
/// </summary>
public sealed class UdpPortListenerTests : IDisposable
{
    private static readonly Instant Start = Instant.FromMilliseconds(1_000);
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);
    private static readonly IpEndpoint GuestServer = new(TestFrames.Guest, 5353);

    private readonly EventLoop _loop = new();
    private readonly StackHarness _stack;
    private readonly Publish _publish;
    private readonly UdpPortListener _listener;
    private readonly int _port;
    private readonly List<Socket> _clients = new();
    private bool _closed;

    public UdpPortListenerTests()
    {
        UdpNat? udp = null;
        TcpTransport? tcp = null;
        _stack = new StackHarness(build: builder =>
        {
            tcp = builder.Tcp(s => new TcpTransport(s, _loop.Timers, new FakeTcpConnector(), new TcpOptions()));
            udp = builder.Udp(s => new UdpNat(s, _loop.Timers, new FakeDatagramFactory(), new UdpOptions()));
        }, timers: _loop.Timers);
        _stack.Stack.Neighbours.Learn(TestFrames.Guest, TestFrames.GuestMac, _stack.Link);
        var publisher = new PortPublisher(_loop, _stack.Stack, tcp!, udp!, new PublishOptions { UdpMaxClients = 3, UdpIdleTimeout = IdleTimeout });
        int fd = HostListenSocket.Bind(new IpEndpoint(Ipv4Address.Loopback, 0), PublishProtocol.Udp, out _port);
        _publish = new Publish(PublishSpec.Parse($"127.0.0.1:{_port}:5353/udp"), GuestServer);
        _listener = new UdpPortListener(fd, _loop, publisher, _publish);
    }

    public void Dispose()
    {
        if (!_closed)
        {
            _listener.Dispose();
        }
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        _loop.Dispose();
    }

    private Socket NewClient()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _clients.Add(client);
        return client;
    }

    private static ushort PortOf(Socket client) => (ushort)((IPEndPoint)client.LocalEndPoint!).Port;

    /// <summary>
    /// The client writes to the published port and the listener reads it at <paramref name="at"/>;
    /// returns the source port the guest saw it from (a loopback client appears as the host IP).
    /// </summary>
    private ushort Write(Socket client, Instant at, string text = "ping")
    {
        client.SendTo(System.Text.Encoding.ASCII.GetBytes(text), new IPEndPoint(IPAddress.Loopback, _port));
        _listener.OnPoll(PollEvents.Readable, at);
        var frame = Assert.Single(_stack.Sent.Take());
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(ethernet.Payload, out var ip));
        Assert.Equal(TestFrames.Host, ip.Source);
        var udp = new UdpDatagram(ip.Payload);
        Assert.Equal(GuestServer.Port, udp.DestinationPort);
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(udp.Payload));
        return udp.SourcePort;
    }

    /// <summary>The guest's server answers the address it saw a client as.</summary>
    private void GuestReplies(ushort remotePort, Instant at, string text = "pong") =>
        _stack.Stack.Receive(TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, TestFrames.Host, GuestServer.Port, remotePort,
            System.Text.Encoding.ASCII.GetBytes(text)), _stack.Link, at);

    private static string? Received(Socket client)
    {
        byte[] buffer = new byte[100];
        try
        {
            int n = client.Receive(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            return null;
        }
    }

    /// <summary>Nothing comes to <paramref name="client"/> within a fifth of a second.</summary>
    private static void AssertNothingArrives(Socket client)
    {
        client.ReceiveTimeout = 200;
        Assert.Null(Received(client));
    }

    private void RunTimers(Instant at) => _loop.Timers.RunDue(at);

    [Fact]
    public void TheGuestsReplyGoesBackToTheClientFromThePublishedPort()
    {
        var client = NewClient();
        ushort seenAs = Write(client, Start);
        Assert.Equal(PortOf(client), seenAs);

        GuestReplies(seenAs, Start);

        Assert.Equal("pong", Received(client));
        Assert.Equal(1, _publish.Counters.Connections);
        Assert.Equal(1, _publish.Counters.DatagramsFromGuest);
    }

    [Fact]
    public void ANewClientBeyondTheCapEvictsTheLeastRecentlyUsed()
    {
        var a = NewClient();
        var b = NewClient();
        var c = NewClient();
        ushort seenA = Write(a, Start);
        ushort seenB = Write(b, Start + TimeSpan.FromSeconds(1));
        Write(c, Start + TimeSpan.FromSeconds(2));
        // a writes again: now b is the least recently used.
        Write(a, Start + TimeSpan.FromSeconds(3));

        Write(NewClient(), Start + TimeSpan.FromSeconds(4));

        Assert.Equal(3, _listener.Clients);
        Assert.Equal(1, _publish.Counters.ClientsEvicted);
        Assert.Equal(4, _publish.Counters.Connections);
        // b's mapping is gone: the guest's reply to it no longer reaches b.
        GuestReplies(seenB, Start + TimeSpan.FromSeconds(5), "to b");
        GuestReplies(seenA, Start + TimeSpan.FromSeconds(5), "to a");
        Assert.Equal("to a", Received(a));
        AssertNothingArrives(b);
    }

    [Fact]
    public void AnEvictedClientThatWritesAgainGetsANewMapping()
    {
        var first = NewClient();
        Write(first, Start);
        for (int i = 0; i < 3; i++)
        {
            Write(NewClient(), Start + TimeSpan.FromSeconds(1 + i));
        }
        Assert.Equal(1, _publish.Counters.ClientsEvicted);

        ushort seen = Write(first, Start + TimeSpan.FromSeconds(5));
        GuestReplies(seen, Start + TimeSpan.FromSeconds(5));

        Assert.Equal("pong", Received(first));
        Assert.Equal(2, _publish.Counters.ClientsEvicted);
        Assert.Equal(3, _listener.Clients);
    }

    [Fact]
    public void IdleClientsExpireOldestFirst()
    {
        Write(NewClient(), Start);
        Write(NewClient(), Start + TimeSpan.FromSeconds(5));

        RunTimers(Start + (IdleTimeout - TimeSpan.FromMilliseconds(1)));
        Assert.Equal(2, _listener.Clients);
        RunTimers(Start + IdleTimeout);
        Assert.Equal(1, _listener.Clients);
        Assert.Equal(1, _publish.Counters.ClientsExpired);
        RunTimers(Start + TimeSpan.FromSeconds(5) + IdleTimeout);
        Assert.Equal(0, _listener.Clients);
        Assert.Equal(2, _publish.Counters.ClientsExpired);
        Assert.Equal(0, _publish.Counters.ClientsEvicted);
    }

    [Fact]
    public void TheGuestsRepliesKeepAClientAlive()
    {
        var client = NewClient();
        ushort seen = Write(client, Start);
        GuestReplies(seen, Start + TimeSpan.FromSeconds(8));

        RunTimers(Start + IdleTimeout);
        Assert.Equal(1, _listener.Clients);
        RunTimers(Start + TimeSpan.FromSeconds(8) + IdleTimeout);
        Assert.Equal(0, _listener.Clients);

        // Expired: the guest's late reply goes nowhere near the client.
        GuestReplies(seen, Start + TimeSpan.FromSeconds(30), "late");
        Assert.Equal("pong", Received(client));
        AssertNothingArrives(client);
    }

    [Fact]
    public void ClosingThePortForgetsEveryClient()
    {
        var client = NewClient();
        ushort seen = Write(client, Start);

        _listener.Dispose();
        _closed = true;

        GuestReplies(seen, Start + TimeSpan.FromSeconds(1));
        AssertNothingArrives(client);
        Assert.Equal(0, _listener.Clients);
    }
}
