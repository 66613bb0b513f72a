using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Cli;
using Usernet.Config;
using Usernet.Services.Docker;
using Usernet.Tests.Support;

namespace Usernet.Tests.Services.Docker;

/// <summary>
/// The API proxy between a client and a daemon the test plays (<see cref="ScriptedDaemon"/>):
/// bytes pass unchanged both ways, answers keep their order, upgraded and hijacked connections
/// become raw streams, a malformed request ends only its own connection, and a start or stop
/// changes the instance's published ports before its answer goes back. The real daemon and CLI
/// are in the end-to-end DockerTests.
/// </summary>
public sealed class DockerApiProxyTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("usernet-dockerapi-").FullName;
    private readonly Instance _instance;
    private readonly Thread _loop;
    private readonly ScriptedDaemon _daemon;
    private readonly DockerApiProxy _proxy;

    public DockerApiProxyTests()
    {
        var settings = SettingsLoader.Load(new SettingsInput()).Settings!;
        _instance = new Instance(SettingsOptions.FromSettings(settings, "docker-api-test"));
        _loop = new Thread(_instance.Run) { IsBackground = true, Name = "test loop" };
        _loop.Start();
        _daemon = new ScriptedDaemon(Path.Combine(_directory, "dockerd.sock"));
        var ports = new ContainerPorts(_instance.Loop, _instance.Publisher, new DockerClient(_daemon.Path));
        _proxy = new DockerApiProxy(Path.Combine(_directory, "docker.sock"), _daemon.Path, ports);
        _proxy.Start();
    }

    [Fact]
    public void TheApiSocketIsTheOwnersOnly() =>
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_proxy.SocketPath));

    [Fact]
    public async Task PipelinedRequestsAndChunkedBodiesPassByteForByte()
    {
        byte[] requests = Encoding.ASCII.GetBytes(
            "POST /v1.41/build?t=x HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "A;name=ctx\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n" +
            "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
        byte[] responses = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "F\r\n{\"stream\":\"1\"}\n\r\n0\r\n\r\n" +
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
        using var client = await ConnectAsync();
        await client.SendAsync(requests);
        using var daemon = await _daemon.NextConnectionAsync();
        Assert.Equal(requests, await ReceiveExactly(daemon, requests.Length));
        await daemon.SendAsync(responses);
        Assert.Equal(responses, await ReceiveExactly(client, responses.Length));
    }

    [Fact]
    public async Task AnUpgradeTurnsTheConnectionIntoARawStreamBothWays()
    {
        byte[] request = Encoding.ASCII.GetBytes(
            "POST /v1.41/exec/4f2a/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" +
            "Content-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"Detach\":false,\"Tty\":true}");
        using var client = await ConnectAsync();
        // What the client types may come before the answer: it waits until the connection is raw.
        await client.SendAsync(Concat(request, "echo typed\n"u8.ToArray()));
        using var daemon = await _daemon.NextConnectionAsync();
        Assert.Equal(request, await ReceiveExactly(daemon, request.Length));
        byte[] upgraded = Encoding.ASCII.GetBytes("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
        await daemon.SendAsync(Concat(upgraded, "prompt$ "u8.ToArray()));
        Assert.Equal("echo typed\n", Encoding.ASCII.GetString(await ReceiveExactly(daemon, 11)));
        Assert.Equal(Concat(upgraded, "prompt$ "u8.ToArray()), await ReceiveExactly(client, upgraded.Length + 8));
        // Bytes that look like HTTP are just bytes now.
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal("GET / HTTP/1.1\r\n\r\n", Encoding.ASCII.GetString(await ReceiveExactly(daemon, 18)));
        client.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ReceiveToEnd(daemon));
        await daemon.SendAsync("exit\n"u8.ToArray());
        daemon.Shutdown(SocketShutdown.Send);
        Assert.Equal("exit\n", Encoding.ASCII.GetString(await ReceiveToEnd(client)));
    }

    [Fact]
    public async Task DockersHijackWithoutAnUpgradeIsARawStreamToo()
    {
        byte[] request = Encoding.ASCII.GetBytes("POST /containers/web/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n");
        using var client = await ConnectAsync();
        await client.SendAsync(request);
        using var daemon = await _daemon.NextConnectionAsync();
        await ReceiveExactly(daemon, request.Length);
        byte[] hijacked = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
        await daemon.SendAsync(Concat(hijacked, [1, 0, 0, 0, 0, 0, 0, 2, (byte)'h', (byte)'i']));
        Assert.Equal(hijacked.Length + 10, (await ReceiveExactly(client, hijacked.Length + 10)).Length);
        await client.SendAsync("input"u8.ToArray());
        Assert.Equal("input", Encoding.ASCII.GetString(await ReceiveExactly(daemon, 5)));
    }

    [Fact]
    public async Task AMalformedRequestGetsDockersKindOf400AndOnlyItsConnectionEnds()
    {
        using var bad = await ConnectAsync();
        await bad.SendAsync("GET /_ping HTTP/1.1\r\nHost: docker\r\nBad Header\r\n\r\n"u8.ToArray());
        string answer = Encoding.UTF8.GetString(await ReceiveToEnd(bad));
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
        Assert.Contains("Content-Type: application/json", answer);
        Assert.EndsWith("{\"message\":\"malformed request: header line 2 is not NAME: VALUE\"}\n", answer);
        using (var daemon = await _daemon.NextConnectionAsync())
        {
            Assert.Empty(await ReceiveToEnd(daemon));
        }

        using var good = await ConnectAsync();
        await good.SendAsync("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"u8.ToArray());
        using var next = await _daemon.NextConnectionAsync();
        await ReceiveExactly(next, 37);
        await next.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"u8.ToArray());
        Assert.EndsWith("OK", Encoding.ASCII.GetString(await ReceiveExactly(good, 40)));
    }

    [Fact]
    public async Task AStartBindsTheContainersPortBeforeTheDaemonSeesIt()
    {
        int port = Ports.Free();
        bool listeningAtStart = false;
        _daemon.Answer = (method, target) => (method, target) switch
        {
            ("GET", "/containers/cap1/json") or ("GET", "/containers/bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff/json")
                => (200, Inspection(port)),
            ("POST", "/v1.41/containers/cap1/start") => (listeningAtStart = Ports.Accepts(port)) ? (204, "") : (500, "{\"message\":\"not bound\"}"),
            _ => (404, "{\"message\":\"no such thing\"}"),
        };
        string answer = await RequestAsync("POST /v1.41/containers/cap1/start HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n", 204);
        Assert.True(listeningAtStart);
        Assert.Equal("HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n", answer);
        var publish = Assert.Single(await _instance.Loop.InvokeAsync(_ => _instance.Publisher.Publishes.ToList()));
        Assert.Equal("cap1", publish.Owner);
        Assert.Equal($"127.0.0.1:{port}", Assert.Single(publish.HostEndpoints).ToString());
        Assert.Equal($"192.168.65.3:{port}", publish.Guest.ToString());
    }

    [Fact]
    public async Task AStartWhosePortIsTakenGetsDockersErrorAndNeverReachesTheDaemon()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        _daemon.Answer = (method, target) => method == "GET" ? (200, Inspection(port)) : (204, "");
        string answer = await RequestAsync("POST /containers/cap1/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 500);
        Assert.StartsWith("HTTP/1.1 500 Internal Server Error\r\n", answer);
        Assert.Contains($"Bind for 127.0.0.1:{port} failed: port is already allocated (usernet: port {port} is already in use by ", answer);
        Assert.DoesNotContain(_daemon.Requests, r => r.StartsWith("POST", StringComparison.Ordinal));
        Assert.Empty(await _instance.Loop.InvokeAsync(_ => _instance.Publisher.Publishes.ToList()));
    }

    [Fact]
    public async Task AStopUnpublishesBeforeItsAnswerGoesBack()
    {
        int port = Ports.Free();
        bool running = true;
        _daemon.Answer = (method, target) => method == "GET" ? (200, Inspection(port, running)) : (204, "");
        await RequestAsync("POST /containers/cap1/start HTTP/1.1\r\nHost: docker\r\n\r\n", 204);
        Assert.Single(await _instance.Loop.InvokeAsync(_ => _instance.Publisher.Publishes.ToList()));
        _daemon.Answer = (method, target) =>
        {
            if (method == "POST")
            {
                running = false;
            }
            return method == "GET" ? (200, Inspection(port, running)) : (204, "");
        };
        await RequestAsync("POST /containers/cap1/stop?t=1 HTTP/1.1\r\nHost: docker\r\n\r\n", 204);
        Assert.Empty(await _instance.Loop.InvokeAsync(_ => _instance.Publisher.Publishes.ToList()));
        Assert.False(Ports.Accepts(port));
    }

    /// <summary>The captured container cap1, on <paramref name="port"/>.</summary>
    private static string Inspection(int port, bool running = true) => DockerCaptures.LoopbackBinding
        .Replace("18080", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("\"Running\": true", running ? "\"Running\": true" : "\"Running\": false", StringComparison.Ordinal);

    /// <summary>Sends one request and reads its whole answer (keep-alive: up to its end by the expected status).</summary>
    private async Task<string> RequestAsync(string request, int status)
    {
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.ASCII.GetBytes(request));
        client.Shutdown(SocketShutdown.Send);
        string answer = Encoding.UTF8.GetString(await ReceiveToEnd(client));
        Assert.StartsWith($"HTTP/1.1 {status} ", answer);
        return answer;
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(_proxy.SocketPath));
        return socket;
    }

    private static async Task<byte[]> ReceiveExactly(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int received = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (received < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(received), timeout.Token);
            if (n == 0)
            {
                break;
            }
            received += n;
        }
        return buffer[..received];
    }

    private static async Task<byte[]> ReceiveToEnd(Socket socket)
    {
        using var all = new MemoryStream();
        byte[] buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
        {
            all.Write(buffer, 0, n);
        }
        return all.ToArray();
    }

    private static byte[] Concat(byte[] first, byte[] second) => [.. first, .. second];

    public async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _instance.Stop();
        _loop.Join();
        await _instance.DisposeAsync();
        _daemon.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
