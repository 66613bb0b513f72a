using System.Net.Sockets;
using System.Security.Cryptography;
using Usernet.Services.HostServices;

namespace Usernet.Tests.Services.HostServices;

/// <summary>
/// The SSH agent relay between a client and an agent the test plays on a unix socket: each
/// connection becomes one connection to the agent, bytes pass unchanged both ways with the
/// client's end passed on, and without an agent a client sees its connection end at once. The
/// real ssh-agent, ssh-add and ssh are in the end-to-end SshAgentTests.
/// </summary>
public sealed class SshAgentRelayTests : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("usernet-agent-relay-").FullName;
    private readonly List<SshAgentRelay> _relays = new();

    private string RelaySocket => Path.Combine(_directory, SshAgentRelay.SocketName);

    private SshAgentRelay Relay(string? agent)
    {
        var relay = new SshAgentRelay(agent);
        _relays.Add(relay);
        relay.ListenIn(_directory);
        return relay;
    }

    /// <summary>An agent that answers each connection with the SHA-256 of all it received, once the client's end arrives.</summary>
    private static async Task<int> ServeHashes(Socket listener, int connections)
    {
        int served = 0;
        for (int i = 0; i < connections; i++)
        {
            using var connection = await listener.AcceptAsync();
            var received = await ReceiveAll(connection);
            await connection.SendAsync(SHA256.HashData(received));
            served++;
        }
        return served;
    }

    private static async Task<byte[]> ReceiveAll(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Limit);
        var all = new MemoryStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            all.Write(buffer, 0, n);
        }
        return all.ToArray();
    }

    private Socket Listen(string name)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_directory, name)));
        listener.Listen();
        return listener;
    }

    private async Task<Socket> Connect()
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(RelaySocket));
        return client;
    }

    [Fact]
    public async Task EachConnectionIsRelayedToANewAgentConnectionUnchangedBothWays()
    {
        using var agent = Listen("agent.sock");
        var serving = ServeHashes(agent, 2);
        Relay(Path.Combine(_directory, "agent.sock"));
        foreach (int size in new[] { 1, 300_000 })
        {
            byte[] request = RandomNumberGenerator.GetBytes(size);
            using var client = await Connect();
            await client.SendAsync(request);
            // The agent answers only on the client's end: the half-close must be carried.
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(SHA256.HashData(request), await ReceiveAll(client));
        }
        Assert.Equal(2, await serving.WaitAsync(Limit, TestContext.Current.CancellationToken));
    }

    /// <summary>SSH_AGENTC_REQUEST_IDENTITIES (type 11), what ssh-add -l sends.</summary>
    private static readonly byte[] RequestIdentities = [0, 0, 0, 1, 11];

    /// <summary>SSH_AGENT_FAILURE (type 5).</summary>
    private static readonly byte[] AgentFailure = [0, 0, 0, 1, 5];

    private static async Task<byte[]> Receive(Socket socket, int count)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] answer = new byte[count];
        await stream.ReadExactlyAsync(answer, TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
        return answer;
    }

    [Fact]
    public async Task WithoutAnAgentEachRequestIsRefusedInTheProtocolsWords()
    {
        Relay(null);
        using var client = await Connect();
        byte[] sign = [0, 0, 0, 9, 13, .. RandomNumberGenerator.GetBytes(8)];
        foreach (var request in new[] { RequestIdentities, sign })
        {
            await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(AgentFailure, await Receive(client, AgentFailure.Length));
        }
        client.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ReceiveAll(client));
    }

    [Fact]
    public async Task AnAgentThatDoesNotAnswerIsLikeNoAgent()
    {
        var relay = Relay(Path.Combine(_directory, "no-agent-here.sock"));
        using var client = await Connect();
        await client.SendAsync(RequestIdentities, TestContext.Current.CancellationToken);
        Assert.Equal(AgentFailure, await Receive(client, AgentFailure.Length));
        client.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ReceiveAll(client));
        Assert.True(SpinWait.SpinUntil(() => relay.OpenConnections == 0, Limit));
    }

    [Fact]
    public async Task WithoutAnAgentALengthOverTheProtocolsBoundEndsTheConnection()
    {
        Relay(null);
        using var client = await Connect();
        byte[] length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, SshAgentRelay.MaxMessage + 1);
        await client.SendAsync(length, TestContext.Current.CancellationToken);
        Assert.Empty(await ReceiveAll(client));
    }

    [Fact]
    public async Task TheSocketIsOpenToEveryUserOfTheGuestAndGoneAfterwards()
    {
        var relay = Relay(null);
        var everyone = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        Assert.Equal(everyone, File.GetUnixFileMode(RelaySocket));
        await relay.DisposeAsync();
        Assert.False(File.Exists(RelaySocket));
    }

    [Fact]
    public async Task DisposingEndsTheConnectionsItRelays()
    {
        using var agent = Listen("agent.sock");
        var relay = Relay(Path.Combine(_directory, "agent.sock"));
        using var client = await Connect();
        using var held = await agent.AcceptAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Limit, TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => relay.OpenConnections == 1, Limit));
        await relay.DisposeAsync();
        Assert.Empty(await ReceiveAll(client));
        Assert.Empty(await ReceiveAll(held));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }
}
