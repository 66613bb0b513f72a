using System.Buffers.Binary;
using System.Net.Sockets;
using Usernet.Platform.Interop;
using Usernet.Services.Dns;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

/// <summary>DNS over TCP through a real socket pair: framing, pipelining, answers out of order.</summary>
public sealed class DnsTcpServerTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);

    private static unsafe (Socket Server, Socket Client) Pair()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, fds));
        return (new Socket(new SafeSocketHandle(fds[0], true)), new Socket(new SafeSocketHandle(fds[1], true)));
    }

    private static byte[] Framed(params byte[][] messages) =>
        messages.SelectMany(m => (byte[])[(byte)(m.Length >> 8), (byte)m.Length, .. m]).ToArray();

    private static async Task<DnsTestResponse> Receive(Socket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        byte[] prefix = new byte[2];
        Assert.True(await DnsForwarder.ReceiveExactlyAsync(client, prefix, timeout.Token));
        byte[] message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        Assert.True(await DnsForwarder.ReceiveExactlyAsync(client, message, timeout.Token));
        return DnsTestMessages.Parse(message);
    }

    /// <summary>The loop thread, played by a lock: each posted action runs alone.</summary>
    private static (DnsTcpServer Server, DnsResolverHarness Dns, object Gate) Server()
    {
        var dns = new DnsResolverHarness();
        var gate = new object();
        var server = new DnsTcpServer(action => { lock (gate) { action(T0); } }, dns.Resolver, DnsResolverHarness.Server, TimeSpan.FromSeconds(2));
        return (server, dns, gate);
    }

    [Fact]
    public async Task PipelinedQueriesAreAnsweredOnOneConnection()
    {
        var (server, _, _) = Server();
        var (serverEnd, client) = Pair();
        using var _ = client;
        server.Accept(serverEnd, DnsResolverHarness.Guest);
        await client.SendAsync(Framed(
            DnsTestMessages.Query("host.docker.internal", DnsType.A, id: 1),
            [0, 1, 2],
            DnsTestMessages.Query("gateway.docker.internal", DnsType.A, id: 2)), SocketFlags.None);
        var first = await Receive(client);
        var second = await Receive(client);
        Assert.Equal([1, 2], new[] { (int)first.Id, second.Id }.Order());
        Assert.Equal(1, server.Connections);
        client.Shutdown(SocketShutdown.Send);
        Assert.True(Wait.Until(() => server.Connections == 0, 5));
    }

    [Fact]
    public async Task ALateAnswerFollowsAnEarlierOne()
    {
        var (server, dns, gate) = Server();
        var (serverEnd, client) = Pair();
        using var _ = client;
        server.Accept(serverEnd, DnsResolverHarness.Guest);
        byte[] slow = DnsTestMessages.Query("big.test", DnsType.Txt, id: 7);
        await client.SendAsync(Framed(slow, DnsTestMessages.Query("host.docker.internal", DnsType.A, id: 8)), SocketFlags.None);
        Assert.Equal(8, (await Receive(client)).Id);
        Assert.True(Wait.Until(() => dns.Source.Forwarded.Count == 1, 5));
        lock (gate)
        {
            dns.Resolver.CompleteForward(dns.Source.Forwarded[0],
                DnsTestMessages.Upstream(slow, 0, [DnsTestMessages.TxtRecord(new string('x', 5000), 60)]), T0);
        }
        var late = await Receive(client);
        Assert.Equal(7, late.Id);
        Assert.False(late.Truncated);
        Assert.Equal(5000 + 20, Assert.Single(late.Answers).Data.Length);
    }
}
