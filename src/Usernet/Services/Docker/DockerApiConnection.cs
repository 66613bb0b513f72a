using System.Net.Sockets;
using System.Threading.Channels;
using Usernet.Http;

namespace Usernet.Services.Docker;

/// <summary>
/// One client connection of the Docker API proxy and its own connection to the guest's daemon.
/// Two pumps carry the bytes, one each way, unchanged and with backpressure (each holds one
/// buffer and awaits every write). The request pump reads just enough to find where each
/// request ends (its head and its body's framing); the response pump likewise for answers, in
/// the order of the requests. A start, a state change or a hijack gets its extra step (see
/// <see cref="DockerApiAction"/>); after an answer of 101, or Docker's raw-stream hijack, both
/// pumps copy raw bytes until each side ends. A request that cannot be read gets Docker's kind
/// of 400 in its turn and ends this connection only.
/// </summary>
internal sealed class DockerApiConnection : IDisposable
{
    /// <summary>
    /// The largest head: Docker's own server takes 1 MiB, and X-Registry-Config (every
    /// registry credential, base64) can be tens of KiB; a buffer this size is held per direction.
    /// </summary>
    public const int MaxHead = 256 * 1024;

    private readonly Socket _client;
    private readonly Socket _daemon;
    private readonly NetworkStream _clientStream;
    private readonly NetworkStream _daemonStream;
    private readonly ContainerPorts _ports;
    private readonly ContainerNetworks? _networks;
    private readonly Channel<PendingResponse> _pending = Channel.CreateBounded<PendingResponse>(16);
    private readonly List<StartInterception> _starts = new();
    private readonly CancellationTokenSource _abort = new();

    public DockerApiConnection(Socket client, Socket daemon, ContainerPorts ports, ContainerNetworks? networks = null)
    {
        _networks = networks;
        _client = client;
        _daemon = daemon;
        _clientStream = new NetworkStream(client, ownsSocket: false);
        _daemonStream = new NetworkStream(daemon, ownsSocket: false);
        _ports = ports;
    }

    /// <summary>Carries the connection until both sides are done or one fails; never throws.</summary>
    public async Task RunAsync()
    {
        var requests = Guard(PumpRequestsAsync());
        var responses = Guard(PumpResponsesAsync());
        await Task.WhenAll(requests, responses).ConfigureAwait(false);
        Dispose();
    }

    /// <summary>A pump that fails ends both: the sockets close, so the other pump's awaits end too.</summary>
    private async Task Guard(Task pump)
    {
        try
        {
            await pump.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or HttpFormatException
            or ObjectDisposedException or ChannelClosedException or DockerDaemonException)
        {
            Log.Debug($"docker api: connection ends: {e.Message}");
            Abort();
        }
    }

    private async Task PumpRequestsAsync()
    {
        var cancel = _abort.Token;
        var reader = new HttpReader(_clientStream, MaxHead);
        try
        {
            while (true)
            {
                byte[]? bytes;
                HttpRequestHead head;
                try
                {
                    bytes = await reader.ReadHeadAsync(cancel).ConfigureAwait(false);
                    if (bytes is null)
                    {
                        // The client is done sending: the daemon learns it the same way.
                        _daemon.Shutdown(SocketShutdown.Send);
                        return;
                    }
                    head = HttpHeadParser.ParseRequest(bytes);
                }
                catch (HttpFormatException e)
                {
                    await _pending.Writer.WriteAsync(PendingResponse.Answered(DockerErrorResponse.Format(e.Status, $"malformed request: {e.Message}", close: true), closeAfter: true), cancel).ConfigureAwait(false);
                    return;
                }
                var route = DockerApiRoute.Of(head.Method, head.Target, head.Headers.HasToken("Connection", "upgrade"));
                var pending = await PrepareAsync(head, route, cancel).ConfigureAwait(false);
                if (pending.Local is not null)
                {
                    // Answered here: the request goes no further, and its body is read past.
                    await RelayBodyAsync(reader, head, Stream.Null, cancel).ConfigureAwait(false);
                    await _pending.Writer.WriteAsync(pending, cancel).ConfigureAwait(false);
                    continue;
                }
                await _pending.Writer.WriteAsync(pending, cancel).ConfigureAwait(false);
                await _daemonStream.WriteAsync(bytes, cancel).ConfigureAwait(false);
                await RelayBodyAsync(reader, head, _daemonStream, cancel).ConfigureAwait(false);
                if (pending.Upgraded is { } upgraded && await upgraded.Task.WaitAsync(cancel).ConfigureAwait(false))
                {
                    await reader.CopyToEndAsync(_daemonStream, cancel).ConfigureAwait(false);
                    _daemon.Shutdown(SocketShutdown.Send);
                    return;
                }
            }
        }
        finally
        {
            _pending.Writer.TryComplete();
        }
    }

    /// <summary>The request's extra step before it goes on, by its route.</summary>
    private async Task<PendingResponse> PrepareAsync(HttpRequestHead head, DockerApiRoute route, CancellationToken cancel)
    {
        switch (route.Action)
        {
            case DockerApiAction.Start:
                StartInterception? start;
                try
                {
                    start = await _ports.BeginStartAsync(route.Container!, cancel).ConfigureAwait(false);
                }
                catch (DockerDaemonException e)
                {
                    // The daemon will answer the start itself; what it started is published from its events.
                    Log.Warn($"docker: {e.Message}");
                    start = null;
                }
                if (start?.Refusal is { } refusal)
                {
                    return PendingResponse.Answered(DockerErrorResponse.Format(500, refusal), closeAfter: false);
                }
                if (start is not null)
                {
                    lock (_starts)
                    {
                        _starts.Add(start);
                    }
                }
                return new PendingResponse(head.Method, route) { Start = start };
            case DockerApiAction.StateChange:
                return new PendingResponse(head.Method, route) { ContainerId = await _ports.ResolveAsync(route.Container!).ConfigureAwait(false) };
            case DockerApiAction.Hijack:
                return new PendingResponse(head.Method, route) { Upgraded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously) };
            default:
                return new PendingResponse(head.Method, route);
        }
    }

    private async Task PumpResponsesAsync()
    {
        var cancel = _abort.Token;
        var reader = new HttpReader(_daemonStream, MaxHead);
        await foreach (var pending in _pending.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
        {
            if (pending.Local is { } local)
            {
                await _clientStream.WriteAsync(local, cancel).ConfigureAwait(false);
                if (pending.CloseAfter)
                {
                    _client.Shutdown(SocketShutdown.Send);
                    Abort();
                    return;
                }
                continue;
            }
            var (bytes, head) = await ReadFinalHeadAsync(reader, cancel).ConfigureAwait(false);
            if (head is null)
            {
                // The daemon closed before answering: the client sees the same.
                pending.Upgraded?.TrySetResult(false);
                _client.Shutdown(SocketShutdown.Send);
                return;
            }
            if (pending.Start is { } start && await start.CompleteAsync(head.Status).ConfigureAwait(false) is { } refusal)
            {
                // The daemon started it, but a port it picked cannot be published: the container
                // was stopped, and the client gets the refusal instead of the success.
                await RelayBodyAsync(reader, head, pending.Method, Stream.Null, cancel).ConfigureAwait(false);
                await _clientStream.WriteAsync(DockerErrorResponse.Format(500, refusal), cancel).ConfigureAwait(false);
                continue;
            }
            if (pending.ContainerId is { } id && head.Status is >= 200 and < 300)
            {
                // Before the client hears that the container stopped, its ports are gone.
                await _ports.ReconcileAsync(id).ConfigureAwait(false);
            }
            if (_networks is not null && head.Status is >= 200 and < 300
                && pending.Route.Action is DockerApiAction.Start or DockerApiAction.StateChange or DockerApiAction.NetworkChange)
            {
                // When `docker network create` or `docker run -d` returns, the host reaches what it made.
                await _networks.RefreshAsync().ConfigureAwait(false);
            }
            await _clientStream.WriteAsync(bytes, cancel).ConfigureAwait(false);
            if (IsRawStream(pending, head))
            {
                pending.Upgraded?.TrySetResult(true);
                await reader.CopyToEndAsync(_clientStream, cancel).ConfigureAwait(false);
                _client.Shutdown(SocketShutdown.Send);
                return;
            }
            pending.Upgraded?.TrySetResult(false);
            if (!await RelayBodyAsync(reader, head, pending.Method, _clientStream, cancel).ConfigureAwait(false))
            {
                // A body framed by the close: the connection ends with it.
                _client.Shutdown(SocketShutdown.Send);
                Abort();
                return;
            }
        }
        if (!_abort.IsCancellationRequested)
        {
            // Every request answered and the client sent no more: done.
            _client.Shutdown(SocketShutdown.Send);
        }
    }

    /// <summary>The next final answer's head, relaying interim ones (100 Continue) on the way; null when the daemon closed.</summary>
    private async Task<(byte[] Bytes, HttpResponseHead? Head)> ReadFinalHeadAsync(HttpReader reader, CancellationToken cancel)
    {
        while (true)
        {
            byte[]? bytes = await reader.ReadHeadAsync(cancel).ConfigureAwait(false);
            if (bytes is null)
            {
                return ([], null);
            }
            var head = HttpHeadParser.ParseResponse(bytes);
            if (head.IsInterim && head.Status != 101)
            {
                await _clientStream.WriteAsync(bytes, cancel).ConfigureAwait(false);
                continue;
            }
            return (bytes, head);
        }
    }

    /// <summary>
    /// Whether the connection is now a raw stream: 101 Switching Protocols, or Docker's hijack of
    /// attach and exec without an upgrade (200 with no framing: the stream runs to the close).
    /// </summary>
    private static bool IsRawStream(PendingResponse pending, HttpResponseHead head) =>
        head.Status == 101
        || (pending.Route.Action == DockerApiAction.Hijack && head.Status == 200
            && !HttpHeadParser.IsChunked(head.Headers) && HttpHeadParser.ContentLength(head.Headers) is null);

    /// <summary>A request's body, by its framing (RFC 9112 §6.3): chunked, Content-Length, or none.</summary>
    private static async Task RelayBodyAsync(HttpReader reader, HttpRequestHead head, Stream destination, CancellationToken cancel)
    {
        if (HttpHeadParser.IsChunked(head.Headers))
        {
            await reader.CopyChunkedVerbatimAsync(destination, cancel).ConfigureAwait(false);
        }
        else if (HttpHeadParser.ContentLength(head.Headers) is { } length)
        {
            await reader.CopyAsync(length, destination, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An answer's body, by its framing (RFC 9112 §6.3): none after HEAD, 1xx, 204 and 304;
    /// chunked; Content-Length; else up to the close (false: the connection is then over).
    /// </summary>
    private static async Task<bool> RelayBodyAsync(HttpReader reader, HttpResponseHead head, string method, Stream destination, CancellationToken cancel)
    {
        if (method == "HEAD" || head.Status is 204 or 304 || head.IsInterim)
        {
            return true;
        }
        if (HttpHeadParser.IsChunked(head.Headers))
        {
            await reader.CopyChunkedVerbatimAsync(destination, cancel).ConfigureAwait(false);
            return true;
        }
        if (HttpHeadParser.ContentLength(head.Headers) is { } length)
        {
            await reader.CopyAsync(length, destination, cancel).ConfigureAwait(false);
            return true;
        }
        await reader.CopyToEndAsync(destination, cancel).ConfigureAwait(false);
        return false;
    }

    /// <summary>Ends both pumps: their sockets close under them.</summary>
    private void Abort()
    {
        if (!_abort.IsCancellationRequested)
        {
            _abort.Cancel();
        }
        _client.Dispose();
        _daemon.Dispose();
    }

    public void Dispose()
    {
        Abort();
        lock (_starts)
        {
            foreach (var start in _starts)
            {
                start.Abandon();
            }
        }
    }
}
