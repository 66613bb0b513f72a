using System.Net.Sockets;
using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Control;

/// <summary>
/// The control API: HTTP/1.1 with JSON bodies on a unix socket, never on a TCP port. Each
/// connection carries one request. It runs on the thread pool, off the data path; handlers
/// that touch stack state marshal onto the loop themselves.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    private const int MaxHeaderBytes = 16 * 1024;
    private const int MaxBodyBytes = 1024 * 1024;

    private readonly string _path;
    private readonly Socket _listener;
    private readonly Dictionary<(string Method, string Path), Func<ControlRequest, Task<ControlResponse>>> _routes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _ownerUid = Libc.GetEUid();
    private Task? _acceptLoop;

    public ControlServer(string path)
    {
        _path = path;
        if (InstanceDirectory.IsLive(path))
        {
            throw new InvalidOperationException($"an instance is already running with control socket {path}; choose another --instance name");
        }
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Created under a 0077 umask so the socket is never, even briefly, open to others.
        int previous = Libc.Umask(0x3F);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
        }
        finally
        {
            Libc.Umask(previous);
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(64);
    }

    public string SocketPath => _path;

    public void Map(string method, string path, Func<ControlRequest, Task<ControlResponse>> handler) =>
        _routes[(method, path)] = handler;

    public void Map(string method, string path, Func<ControlRequest, ControlResponse> handler) =>
        _routes[(method, path)] = request => Task.FromResult(handler(request));

    public void Start() => _acceptLoop = Task.Run(AcceptLoop);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        ControlResponse response;
        try
        {
            int peerUid = PeerUid(client);
            var request = await ReadRequest(client, peerUid, timeout.Token);
            if (request is null)
            {
                return;
            }
            response = await Dispatch(request);
        }
        catch (HttpRequestFormatException e)
        {
            response = ControlResponse.Error(e.Status, e.Message);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (SocketException)
        {
            return;
        }
        await WriteResponse(client, response);
    }

    private async Task<ControlResponse> Dispatch(ControlRequest request)
    {
        if (request.PeerUid != _ownerUid && request.PeerUid != 0)
        {
            return ControlResponse.Error(403, $"uid {request.PeerUid} may not control an instance of uid {_ownerUid}");
        }
        if (!_routes.TryGetValue((request.Method, request.Path), out var handler))
        {
            bool pathKnown = _routes.Keys.Any(k => k.Path == request.Path);
            return pathKnown
                ? ControlResponse.Error(405, $"{request.Method} is not allowed on {request.Path}")
                : ControlResponse.Error(404, $"no such endpoint: {request.Path}");
        }
        try
        {
            return await handler(request);
        }
        catch (ControlRequestException e)
        {
            return ControlResponse.Error(e.Status, e.Message);
        }
        catch (Exception e)
        {
            Log.Error($"control {request.Method} {request.Path}: {e}");
            return ControlResponse.Error(500, e.Message);
        }
    }

    private static async Task<ControlRequest?> ReadRequest(Socket client, int peerUid, CancellationToken token)
    {
        var buffer = new byte[MaxHeaderBytes];
        int filled = 0;
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(buffer.AsSpan(0, filled))) < 0)
        {
            if (filled == buffer.Length)
            {
                throw new HttpRequestFormatException(431, "request headers too large");
            }
            int n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, token);
            if (n == 0)
            {
                return null;
            }
            filled += n;
        }
        string head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new HttpRequestFormatException(400, "malformed request line");
        }
        int contentLength = 0;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                throw new HttpRequestFormatException(400, "malformed header line");
            }
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && (!int.TryParse(value, out contentLength) || contentLength < 0))
            {
                throw new HttpRequestFormatException(400, "invalid Content-Length");
            }
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new HttpRequestFormatException(411, "send the body with Content-Length");
            }
        }
        if (contentLength > MaxBodyBytes)
        {
            throw new HttpRequestFormatException(413, "request body too large");
        }
        var body = new byte[contentLength];
        int already = Math.Min(filled - headerEnd - 4, contentLength);
        Array.Copy(buffer, headerEnd + 4, body, 0, already);
        while (already < contentLength)
        {
            int n = await client.ReceiveAsync(body.AsMemory(already), SocketFlags.None, token);
            if (n == 0)
            {
                throw new HttpRequestFormatException(400, "body shorter than Content-Length");
            }
            already += n;
        }
        string target = requestLine[1];
        int question = target.IndexOf('?');
        string path = question < 0 ? target : target[..question];
        var query = new Dictionary<string, string>();
        if (question >= 0)
        {
            foreach (string pair in target[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = pair.IndexOf('=');
                string key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
                query[key] = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            }
        }
        return new ControlRequest(requestLine[0], path, query, Encoding.UTF8.GetString(body), peerUid);
    }

    private static int IndexOfHeaderEnd(ReadOnlySpan<byte> data) => data.IndexOf("\r\n\r\n"u8);

    private static async Task WriteResponse(Socket client, ControlResponse response)
    {
        byte[] body = Encoding.UTF8.GetBytes(response.Body.EndsWith('\n') ? response.Body : response.Body + "\n");
        string head = $"HTTP/1.1 {response.Status} {ReasonPhrase(response.Status)}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        try
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None);
            await client.SendAsync(body, SocketFlags.None);
        }
        catch (SocketException)
        {
        }
    }

    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Status",
    };

    private static unsafe int PeerUid(Socket client)
    {
        Libc.UCred credentials;
        int length = sizeof(Libc.UCred);
        int fd = (int)client.Handle;
        return Libc.GetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &credentials, &length) == 0 ? credentials.Uid : -1;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A request the control API refuses, with the HTTP status to send.</summary>
internal sealed class ControlRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>A request that is not well-formed HTTP.</summary>
internal sealed class HttpRequestFormatException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
