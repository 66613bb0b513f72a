using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Usernet.Control;
using Usernet.Http;
using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Control;

/// <summary>The control API through a real unix socket in a directory of the test's own.</summary>
public sealed partial class ControlServerTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-control-");
    private readonly ControlServer _server;
    private readonly List<ControlRequest> _requests = new();

    public ControlServerTests()
    {
        _server = new ControlServer(SocketPath);
        _server.Map("GET", "/stats", request =>
        {
            lock (_requests)
            {
                _requests.Add(request);
            }
            return ControlResponse.Json("""{"frames": 1}""");
        });
        _server.Map("POST", "/forwards", request => Task.FromResult(ControlResponse.Json(request.Body, 201)));
        _server.Map("DELETE", "/forwards", (Func<ControlRequest, ControlResponse>)(_ => throw new ControlRequestException(409, "no such forward")));
        _server.Map("GET", "/broken", (Func<ControlRequest, ControlResponse>)(_ => throw new InvalidOperationException("the handler broke")));
        _server.Start();
    }

    private string SocketPath => Path.Combine(_directory.FullName, "test.sock");

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    private Task<(int Status, string Body)> Send(string method, string path, string? body = null) =>
        ControlClient.SendAsync(SocketPath, method, path, body).WaitAsync(Patience);

    /// <summary>Sends <paramref name="request"/> as it is and returns the whole response.</summary>
    private async Task<string> SendRaw(string request, bool endRequest = false)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath)).WaitAsync(Patience);
        return await Exchange(socket, request, endRequest);
    }

    private static async Task<string> Exchange(Socket socket, string request, bool endRequest)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None).WaitAsync(Patience);
        if (endRequest)
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        var response = new MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Patience)) > 0)
        {
            response.Write(buffer, 0, n);
        }
        return Encoding.UTF8.GetString(response.ToArray());
    }

    private static int StatusOf(string response)
    {
        Assert.StartsWith("HTTP/1.1 ", response);
        return int.Parse(response.AsSpan(9, 3));
    }

    [Fact]
    public async Task RequestsGoToTheRouteOfTheirMethodAndPath()
    {
        var (status, body) = await Send("GET", "/stats");
        Assert.Equal(200, status);
        Assert.Equal("{\"frames\": 1}\n", body);

        (status, body) = await Send("POST", "/forwards", """{"port": 8080}""");
        Assert.Equal(201, status);
        Assert.Equal("{\"port\": 8080}\n", body);
    }

    [Theory]
    [InlineData("GET", "/no/such/thing", 404, "no such endpoint: /no/such/thing")]
    [InlineData("PUT", "/stats", 405, "PUT is not allowed on /stats")]   // the path exists, the method does not
    [InlineData("DELETE", "/forwards", 409, "no such forward")]          // a ControlRequestException's own status
    [InlineData("GET", "/broken", 500, "the handler broke")]             // any other exception
    public async Task WhatCannotBeServedGetsAStatusAndAnError(string method, string path, int status, string error)
    {
        var response = await Send(method, path);
        Assert.Equal(status, response.Status);
        Assert.Contains(error, response.Body);
    }

    [Fact]
    public async Task TheQueryIsDecodedAndKeptApartFromThePath()
    {
        string response = await SendRaw("GET /stats?mac=02%3A00%3A00&verbose HTTP/1.1\r\nHost: usernet\r\n\r\n");
        Assert.Equal(200, StatusOf(response));
        var request = Assert.Single(_requests);
        Assert.Equal("/stats", request.Path);
        Assert.Equal("02:00:00", request.Query["mac"]);
        Assert.Equal("", request.Query["verbose"]);
    }

    [Theory]
    [InlineData("NONSENSE", 400, "the request line is not METHOD TARGET HTTP-VERSION")]
    [InlineData("GET /stats", 400, "the request line is not METHOD TARGET HTTP-VERSION")]
    [InlineData("GET /stats SPDY/3", 400, "the version is not HTTP/1.1 or HTTP/1.0")]
    [InlineData("GET  /stats HTTP/1.1", 400, "the request line is not METHOD TARGET HTTP-VERSION")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nNo-Colon-Here", 400, "header line 2 is not NAME: VALUE")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: -1", 400, "Content-Length is not a number")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: ten", 400, "Content-Length is not a number")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nTransfer-Encoding: chunked", 411, "send the body with Content-Length")]
    // Refused from the header alone, before a megabyte is read.
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: 1048577", 413, "request body too large")]
    // What the control server's own parser took and the strict one refuses, as RFC 9112 says a
    // server must (§5.1, §6.3, §3.2): it reads requests as the proxy does, one way only.
    [InlineData("GET /stats HTTP/1.2\r\nHost: usernet", 400, "the version is not HTTP/1.1 or HTTP/1.0")]
    [InlineData("GET /stats HTTP/1.1\r\nHost : usernet", 400, "header line 1 is not NAME: VALUE")]
    [InlineData("GET /stats HTTP/1.1\r\nHost: usernet\r\n X-Folded: yes", 400, "obsolete line folding")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: +2", 400, "Content-Length is not a number")]
    [InlineData("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: 1\r\nContent-Length: 2", 400, "Content-Length fields disagree")]
    [InlineData("GET /stats HTTP/1.1", 400, "an HTTP/1.1 request needs a Host field")]
    [InlineData("GET /stats HTTP/1.1\r\nHost: usernet\r\nX-Bad: a\u0001b", 400, "the value of X-Bad has control characters")]
    public async Task ARequestItCannotTakeIsRefusedWithItsStatus(string head, int status, string error)
    {
        string response = await SendRaw(head + "\r\n\r\n");
        Assert.StartsWith($"HTTP/1.1 {status} {HttpStatus.ReasonPhrase(status)}\r\n", response);
        Assert.Contains(error, response);
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task ARequestWithBareLineFeedsIsServed()
    {
        // RFC 9112 §2.2 lets a recipient take LF alone as a line terminator; the old parser
        // waited for CRLF CRLF until its timeout and then hung up without an answer.
        string response = await SendRaw("GET /stats HTTP/1.1\nHost: usernet\n\n");
        Assert.Equal(200, StatusOf(response));
        Assert.Single(_requests);
    }

    [Fact]
    public async Task AnHttp10RequestNeedsNoHost()
    {
        string response = await SendRaw("GET /stats HTTP/1.0\r\n\r\n");
        Assert.Equal(200, StatusOf(response));
    }

    [Fact]
    public async Task ABodyAtTheLimitIsRead()
    {
        string body = new('x', 1024 * 1024);
        var (status, echoed) = await Send("POST", "/forwards", body);
        Assert.Equal(201, status);
        Assert.Equal(body + "\n", echoed);
    }

    [Fact]
    public async Task HeadersOverTheLimitAre431()
    {
        // Exactly the 16 KiB the server reads, so that it leaves nothing unread behind it.
        const string Head = "GET /stats HTTP/1.1\r\nX-Padding: ";
        string request = Head + new string('a', 16 * 1024 - Head.Length);
        string response = await SendRaw(request);
        Assert.Equal(431, StatusOf(response));
    }

    [Fact]
    public async Task ABodyShorterThanItsLengthIs400()
    {
        string response = await SendRaw("POST /forwards HTTP/1.1\r\nHost: usernet\r\nContent-Length: 10\r\n\r\nabc", endRequest: true);
        Assert.Equal(400, StatusOf(response));
        Assert.Contains("the body is shorter than its Content-Length", response);
    }

    [Fact]
    public async Task AClientThatSendsNothingGetsNoAnswer()
    {
        Assert.Equal("", await SendRaw("", endRequest: true));
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task ARequestCutOffWithinItsHeadIs400()
    {
        // As the proxy answers one: the client may have closed only its sending side.
        string response = await SendRaw("GET /stats HTTP/1.1\r\n", endRequest: true);
        Assert.Equal(400, StatusOf(response));
        Assert.Contains("the connection ended within a head", response);
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task TheRequestCarriesThePeersUid()
    {
        Assert.Equal(200, (await Send("GET", "/stats")).Status);
        Assert.Equal(Libc.GetEUid(), Assert.Single(_requests).PeerUid);
    }

    [Fact]
    public void TheSocketIsPrivateToItsUser()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
    }

    [Fact]
    public void ASecondServerOnALiveSocketIsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ControlServer(SocketPath));
        Assert.Contains("already running", error.Message);
    }

    [Fact]
    public async Task AStaleSocketFileIsReplaced()
    {
        string stale = Path.Combine(_directory.FullName, "stale.sock");
        // What a killed instance leaves: a bound socket file that nobody listens on. (A .NET
        // Socket would delete its file on dispose, so this one is made with libc.)
        int fd = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        Assert.Equal(0, NativeSocketAddress.FromUnixPath(stale).Bind(fd));
        Libc.Close(fd);
        Assert.True(File.Exists(stale));
        await using var server = new ControlServer(stale);
        server.Start();
        Assert.Equal(404, (await ControlClient.SendAsync(stale, "GET", "/stats").WaitAsync(Patience, TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task DisposingRemovesTheSocket()
    {
        string path = Path.Combine(_directory.FullName, "gone.sock");
        var server = new ControlServer(path);
        server.Start();
        await server.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task AnotherUsersRequestIsRefused()
    {
        // The socket is 0600, but the server checks SO_PEERCRED itself in case the file is
        // opened up. Only root can connect as another uid: it changes the effective uid of one
        // thread for the connect (raw syscalls: glibc's setresuid would change every thread).
        if (Libc.GetEUid() != 0 || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.Skip("needs root on x86-64 to connect as another uid");
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Exception? failure = null;
        var connector = new Thread(() =>
        {
            try
            {
                ConnectAs(socket, 65534);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        connector.Start();
        Assert.True(connector.Join(Patience));
        Assert.Null(failure);

        string response = await Exchange(socket, "GET /stats HTTP/1.1\r\nHost: usernet\r\n\r\n", endRequest: false);
        Assert.Equal(403, StatusOf(response));
        Assert.Contains("uid 65534 may not control an instance of uid 0", response);
        Assert.Empty(_requests);
    }

    private const long SysSetResUid = 117;
    private const long SysSetFsUid = 122;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SysCall(long number, long arg1, long arg2, long arg3);

    /// <summary>
    /// Connects with effective uid <paramref name="uid"/> on this thread only, with the
    /// filesystem uid kept 0 so that the 0600 socket file can still be opened.
    /// </summary>
    private void ConnectAs(Socket socket, int uid)
    {
        if (SysCall(SysSetResUid, -1, uid, -1) != 0)
        {
            throw Errno.Exception("setresuid");
        }
        try
        {
            SysCall(SysSetFsUid, 0, 0, 0);
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
        }
        finally
        {
            if (SysCall(SysSetResUid, -1, 0, -1) != 0)
            {
                throw Errno.Exception("setresuid back");
            }
        }
    }
}
