using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Usernet.Http;
using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Control;

/// <summary>
/// The control API: HTTP/1.1 with JSON bodies on a unix socket, never on a TCP port. Each
/// connection carries one request. It runs on the thread pool, off the data path; handlers
/// that touch stack state marshal onto the loop themselves.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;
    private const int MaxBodyBytes = 1024 * 1024;

    private readonly string? _path;
    private readonly Socket? _listener;

    /// <summary>Whether any caller may ask (the metrics listener, which serves only what is public to it).</summary>
    private readonly bool _anyPeer;
    private readonly Dictionary<(string Method, string Path), Func<ControlRequest, Task<ControlResponse>>> _routes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _ownerUid = Libc.GetEUid();
    private Task? _acceptLoop;

    public ControlServer(string path)
    {
        _path = path;
        _listener = PrivateUnixSocket.ListenUnlessLive(path, 64)
            ?? throw new InvalidOperationException($"an instance is already running with control socket {path}; choose another --instance name");
    }

    /// <summary>
    /// A server on a TCP listener already bound (metrics.listen): no peer credentials exist
    /// there, so its routes must be ones any client on that address may read.
    /// </summary>
    private ControlServer(Socket listener)
    {
        _listener = listener;
        _anyPeer = true;
    }

    /// <summary>
    /// Binds a TCP listener on <paramref name="endpoint"/> (port 0: any free port) for routes
    /// every client may read; throws <see cref="SocketException"/> when it cannot bind.
    /// </summary>
    public static ControlServer ListenTcp(System.Net.IPEndPoint endpoint)
    {
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(64);
            return new ControlServer(listener);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Where a TCP server listens; null for the unix socket's.</summary>
    public System.Net.IPEndPoint? TcpEndpoint => _path is null ? _listener?.LocalEndPoint as System.Net.IPEndPoint : null;

    /// <summary>
    /// Routes with no socket: requests come to <see cref="RespondAsync"/> from a stream of the
    /// caller's (the fuzz target of the control API).
    /// </summary>
    internal ControlServer()
    {
    }

    public string SocketPath => _path ?? throw new InvalidOperationException("this control server has no socket");

    public void Map(string method, string path, Func<ControlRequest, Task<ControlResponse>> handler) =>
        _routes[(method, path)] = handler;

    public void Map(string method, string path, Func<ControlRequest, ControlResponse> handler) =>
        _routes[(method, path)] = request => Task.FromResult(handler(request));

    public void Start()
    {
        var listener = _listener ?? throw new InvalidOperationException("this control server has no socket");
        _acceptLoop = Task.Run(() => AcceptLoop(listener));
    }

    private async Task AcceptLoop(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
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
        using var stream = new NetworkStream(client, ownsSocket: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        if (await RespondAsync(stream, _anyPeer ? -1 : PeerUid(client), timeout.Token) is { } response)
        {
            await WriteResponse(stream, response, _stop.Token);
        }
    }

    /// <summary>Reads one request from <paramref name="stream"/> and answers it; null when there is no one to answer.</summary>
    internal async Task<ControlResponse?> RespondAsync(Stream stream, int peerUid, CancellationToken token)
    {
        try
        {
            var request = await ReadRequest(stream, peerUid, token);
            return request is null ? null : await Dispatch(request);
        }
        catch (HttpFormatException e)
        {
            return ControlResponse.Error(e.Status, e.Message);
        }
        catch (ControlRequestException e)
        {
            return ControlResponse.Error(e.Status, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // The client went away or took too long: there is no one to answer.
            return null;
        }
    }

    private async Task<ControlResponse> Dispatch(ControlRequest request)
    {
        if (!_anyPeer && request.PeerUid != _ownerUid && request.PeerUid != 0)
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

    /// <summary>
    /// One request, read as strictly as the proxy reads a guest's (<see cref="HttpHeadParser"/>);
    /// null when the client closed before sending a byte. A body comes with Content-Length:
    /// a chunked one is refused rather than buffered without a known size.
    /// </summary>
    private static async Task<ControlRequest?> ReadRequest(Stream stream, int peerUid, CancellationToken token)
    {
        var reader = new HttpReader(stream, MaxHeadBytes);
        if (await reader.ReadHeadAsync(token) is not { } bytes)
        {
            return null;
        }
        var head = HttpHeadParser.ParseRequest(bytes);
        if (HttpHeadParser.IsChunked(head.Headers))
        {
            throw new ControlRequestException(411, "send the body with Content-Length");
        }
        long length = HttpHeadParser.ContentLength(head.Headers) ?? 0;
        if (length > MaxBodyBytes)
        {
            throw new ControlRequestException(413, "request body too large");
        }
        using var body = new MemoryStream((int)length);
        try
        {
            await reader.CopyAsync(length, body, token);
        }
        catch (IOException)
        {
            throw new HttpFormatException("the body is shorter than its Content-Length");
        }
        string target = head.Target;
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
        return new ControlRequest(head.Method, path, query, Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length), peerUid);
    }

    private static async Task WriteResponse(Stream stream, ControlResponse response, CancellationToken stop)
    {
        byte[] body = Encoding.UTF8.GetBytes(response.Body.EndsWith('\n') ? response.Body : response.Body + "\n");
        var headers = new HttpHeaders();
        headers.Add("Content-Type", response.ContentType);
        if (response.Streamed is null)
        {
            headers.Add("Content-Length", body.Length.ToString(CultureInfo.InvariantCulture));
        }
        headers.Add("Connection", "close");
        var head = new HttpResponseHead("HTTP/1.1", response.Status, HttpStatus.ReasonPhrase(response.Status), headers);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Format()), stop);
            if (response.Streamed is { } write)
            {
                await stream.FlushAsync(stop);
                await write(stream, stop);
                return;
            }
            await stream.WriteAsync(body, stop);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // The client went away, or the instance is stopping.
        }
        finally
        {
            response.Owned?.Dispose();
        }
    }

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
        if (_listener is null)
        {
            return;
        }
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        if (_path is null)
        {
            return;
        }
        try
        {
            File.Delete(_path!);
        }
        catch (IOException)
        {
        }
    }
}
