using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text;
using Usernet.Config;
using Usernet.Http;
using Usernet.Nat;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Services.Proxy;

/// <summary>
/// The HTTP proxy on the gateway, port 3128 (http.docker.internal:3128), and the transparent
/// proxy behind containersProxy.transparentPorts. Each guest connection arrives as a connected
/// socket on the thread pool (see Nat.GatewayTcpServices) and is served here with async I/O:
/// HTTP/1.1 absolute-form requests with keep-alive, CONNECT tunnels, Expect: 100-continue,
/// chunked bodies and upgrades, sent on along the routes the <see cref="ProxyPolicy"/> in force
/// chooses. The guest is untrusted: a malformed request gets 400 and the connection closes,
/// heads are limited, the number of connections is capped, every phase before a tunnel has a
/// time limit and buffers come from one budget (<see cref="ProxyLimits"/>). A tunnel, once
/// open, has no timer at all: only its ends close it.
/// </summary>
internal sealed partial class HttpProxyServer(Func<ProxyPolicy> policy, UpstreamConnector connector, ResolvedNames names, ProxyCounters counters,
    ProxyLimits limits, Func<string, int, bool, string?>? egressDenial = null)
{
    public const ushort Port = 3128;

    /// <summary>What a transparent connection peeks into for the host name.</summary>
    private const int PeekBufferLength = 16 * 1024;

    private readonly ProxyLimits _limits = limits;
    private readonly ProxyBuffers _buffers = new(limits.MaxBufferedBytes);

    public ProxyCounters Counters => counters;

    public ProxyLimits Limits => _limits;

    /// <summary>The budget of every buffer the proxy's connections hold.</summary>
    public ProxyBuffers Buffers => _buffers;

    /// <summary>The counters, the buffers in use, and how many addresses have a name guests resolved, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        counters.WriteJson(writer);
        writer.WriteNumber("bufferedBytes", _buffers.InUse);
        writer.WriteNumber("resolvedNames", names.Count);
    }

    public UpstreamConnector Connector => connector;

    public ProxyPolicy CurrentPolicy => policy();

    /// <summary>A guest connection to port 3128.</summary>
    public void Accept(Socket socket, GuestConnection guest) => _ = RunAsync(socket, guest, transparent: null);

    /// <summary>A guest connection to <paramref name="destination"/> on a transparent port.</summary>
    public void AcceptTransparent(Socket socket, GuestConnection guest, IPEndPoint destination)
    {
        Interlocked.Increment(ref counters.Transparent);
        _ = RunAsync(socket, guest, destination);
    }

    private async Task RunAsync(Socket socket, GuestConnection guest, IPEndPoint? transparent)
    {
        Interlocked.Increment(ref counters.Connections);
        long active = Interlocked.Increment(ref counters.Active);
        bool http = transparent is null || transparent.Port == 80;
        int buffered = http ? HttpReader.DefaultBufferLength : HttpReader.DefaultBufferLength + PeekBufferLength;
        bool holding = false;
        try
        {
            using var client = new NetworkStream(socket, ownsSocket: true);
            if (active > _limits.MaxConnections)
            {
                Interlocked.Increment(ref counters.Refused);
                await RefuseAsync(client, guest, http, $"the proxy is serving {_limits.MaxConnections} connections already").ConfigureAwait(false);
                return;
            }
            holding = _buffers.TryTake(buffered);
            if (!holding)
            {
                Interlocked.Increment(ref counters.OverBudget);
                await RefuseAsync(client, guest, http, "the proxy's buffers are all in use; try again").ConfigureAwait(false);
                return;
            }
            if (http)
            {
                await ServeHttpAsync(socket, guest, client, transparent).ConfigureAwait(false);
            }
            else
            {
                await ServeTransparentTunnelAsync(socket, guest, client, transparent!).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The guest or the far end went away; the connection ends with it.
        }
        catch (Exception e)
        {
            Log.Error($"proxy: a connection failed unexpectedly: {e}");
        }
        finally
        {
            if (holding)
            {
                _buffers.Give(buffered);
            }
            Interlocked.Decrement(ref counters.Active);
        }
    }

    /// <summary>503 for a connection that speaks HTTP; a reset for a transparent one, which may be TLS.</summary>
    private static Task RefuseAsync(NetworkStream client, GuestConnection guest, bool http, string why) =>
        http ? WriteErrorAsync(client, 503, why, keepAlive: false) : guest.ResetAsync();

    /// <summary>Requests, one after another, until the client or the exchange ends the connection.</summary>
    private async Task ServeHttpAsync(Socket socket, GuestConnection guest, NetworkStream client, IPEndPoint? transparent)
    {
        var reader = new HttpReader(client);
        UpstreamConnection? upstream = null;
        try
        {
            while (true)
            {
                HttpRequestHead request;
                try
                {
                    byte[]? head = await ReadRequestHeadAsync(reader).ConfigureAwait(false);
                    if (head is null)
                    {
                        return;
                    }
                    request = HttpHeadParser.ParseRequest(head);
                }
                catch (HttpFormatException e)
                {
                    Interlocked.Increment(ref counters.Malformed);
                    await WriteErrorAsync(client, 400, $"malformed request: {e.Message}", keepAlive: false).ConfigureAwait(false);
                    return;
                }
                catch (TimeoutException e)
                {
                    Interlocked.Increment(ref counters.Timeouts);
                    await WriteErrorAsync(client, 408, e.Message, keepAlive: false).ConfigureAwait(false);
                    return;
                }
                Interlocked.Increment(ref counters.Requests);
                if (request.Method == "CONNECT")
                {
                    if (transparent is not null)
                    {
                        await WriteErrorAsync(client, 400, "CONNECT is for the proxy on port 3128, not for a transparent connection", keepAlive: false).ConfigureAwait(false);
                        return;
                    }
                    await TunnelAsync(socket, guest, client, reader, request).ConfigureAwait(false);
                    return;
                }
                var exchange = new Exchange(this, socket, guest, client, reader, request, transparent, upstream);
                bool keepAlive = await exchange.RunAsync().ConfigureAwait(false);
                upstream = exchange.ReusableUpstream;
                if (!keepAlive)
                {
                    return;
                }
            }
        }
        finally
        {
            upstream?.Dispose();
        }
    }

    /// <summary>
    /// The next request's head: its first byte within <see cref="ProxyLimits.Idle"/> (else
    /// null, and the connection closes quietly, as between keep-alive requests), then the
    /// rest within <see cref="ProxyLimits.RequestHead"/> (else a <see cref="TimeoutException"/>:
    /// a client that trickles its head holds a connection for no longer than that). Null at
    /// the end of the stream.
    /// </summary>
    private async Task<byte[]?> ReadRequestHeadAsync(HttpReader reader)
    {
        // The last request's body limit must not cut the wait for this one short.
        reader.ReadIdleLimit = Timeout.InfiniteTimeSpan;
        if (reader.Buffered.Length == 0)
        {
            using var idle = new CancellationTokenSource(_limits.Idle);
            try
            {
                if (!await reader.FillAsync(idle.Token).ConfigureAwait(false))
                {
                    return null;
                }
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested)
            {
                return null;
            }
        }
        using var deadline = new CancellationTokenSource(_limits.RequestHead);
        try
        {
            return await reader.ReadHeadAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the request head did not arrive whole within {_limits.RequestHead.TotalSeconds:0.#} s");
        }
    }

    /// <summary>CONNECT host:port (RFC 9110 §9.3.6): 200, then bytes both ways until both ends close.</summary>
    private async Task TunnelAsync(Socket socket, GuestConnection guest, NetworkStream client, HttpReader reader, HttpRequestHead request)
    {
        if (!ProxyTarget.TryParseAuthority(request.Target, 0, out var target))
        {
            Interlocked.Increment(ref counters.Malformed);
            await WriteErrorAsync(client, 400, $"CONNECT needs host:port with a numeric port in 1..65535, not \"{request.Target}\"", keepAlive: false).ConfigureAwait(false);
            return;
        }
        Interlocked.Increment(ref counters.Tunnels);
        UpstreamConnection upstream;
        try
        {
            upstream = await OpenAsync(policy(), "https", target, null, null, forRequest: false).ConfigureAwait(false);
        }
        catch (ProxyException e)
        {
            await WriteErrorAsync(client, e, keepAlive: false).ConfigureAwait(false);
            return;
        }
        using (upstream)
        {
            await client.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray()).ConfigureAwait(false);
            await SpliceAsync(socket, guest, reader, upstream).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A transparent connection on a port other than 80: the host name comes from the TLS
    /// ClientHello's SNI or a plain request's Host field, peeked at so that the bytes stay in the
    /// socket; else from the guest's DNS lookup of the address; else it is the address. The
    /// guest had its SYN-ACK before any of this, so a blocked or failed connection is reset: an
    /// end with FIN would look like a successful, empty answer.
    /// </summary>
    private async Task ServeTransparentTunnelAsync(Socket socket, GuestConnection guest, NetworkStream client, IPEndPoint destination)
    {
        string? host = await PeekHostAsync(socket).ConfigureAwait(false);
        host ??= names.Find(destination.Address) ?? destination.Address.ToString();
        var target = new ProxyTarget(host, destination.Port);
        UpstreamConnection upstream;
        try
        {
            upstream = await OpenAsync(policy(), "https", target, null, destination.Address, forRequest: false).ConfigureAwait(false);
        }
        catch (ProxyException e)
        {
            Log.Info($"proxy: transparent connection to {destination} ({host}) not carried: {e.Message}");
            await guest.ResetAsync().ConfigureAwait(false);
            return;
        }
        using (upstream)
        {
            await SpliceAsync(socket, guest, new HttpReader(client), upstream).ConfigureAwait(false);
        }
    }

    /// <summary>How long a transparent connection's first bytes are waited for before the name is taken from DNS.</summary>
    public static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(1);

    private static async Task<string?> PeekHostAsync(Socket socket)
    {
        byte[] buffer = new byte[PeekBufferLength];
        var deadline = DateTime.UtcNow + PeekTimeout;
        int seen = 0;
        using var timeout = new CancellationTokenSource(PeekTimeout);
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.Peek, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return null;
                }
                if (n == seen)
                {
                    // Peeking returns the same bytes at once until more arrive.
                    await Task.Delay(20, timeout.Token).ConfigureAwait(false);
                    continue;
                }
                seen = n;
                var span = buffer.AsSpan(0, n);
                var tls = TlsClientHello.TryReadServerName(span, out string? sni);
                if (tls == PeekResult.Found)
                {
                    return sni;
                }
                string? hostField = null;
                var http = tls == PeekResult.NotThis ? HttpHostPeek.TryReadHost(span, out hostField) : PeekResult.NeedMore;
                if (http == PeekResult.Found && ProxyTarget.TryParseAuthority(hostField!, 1, out var target))
                {
                    return target.Host;
                }
                if ((tls is PeekResult.NotThis or PeekResult.NoName && http is PeekResult.NotThis or PeekResult.NoName) || n == buffer.Length)
                {
                    return null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        return null;
    }

    /// <summary>Tries the policy's routes in order; the first that connects wins.</summary>
    internal async Task<UpstreamConnection> OpenAsync(ProxyPolicy current, string scheme, ProxyTarget target, string? url, IPAddress? directAddress, bool forRequest)
    {
        var routes = await current.ChooseAsync(scheme, target.Host, target.Port, url, directAddress).ConfigureAwait(false);
        var failures = new List<ProxyException>();
        foreach (var route in routes)
        {
            if (route.Kind == ProxyRouteKind.Reject)
            {
                Interlocked.Increment(ref counters.Blocked);
                throw new ProxyException(403, $"{target} is blocked: {route.Reason}");
            }
            // The egress policy's verdict on the name asked for: through an upstream proxy it is
            // all there is; a direct connection is decided again by name and address as it connects.
            if (egressDenial?.Invoke(target.Host, target.Port, route.Kind == ProxyRouteKind.Direct) is { } denial)
            {
                Interlocked.Increment(ref counters.Blocked);
                throw new ProxyException(403, $"{target} is denied by the egress policy: {denial}");
            }
            try
            {
                return await OpenRouteAsync(route, target, directAddress, forRequest).ConfigureAwait(false);
            }
            catch (ProxyException e) when (e.Status == 403)
            {
                // The egress policy refused every address of a direct route: no other route may go around it.
                Interlocked.Increment(ref counters.Blocked);
                throw;
            }
            catch (ProxyException e) when (e.Status != 503)
            {
                failures.Add(e);
            }
        }
        Interlocked.Increment(ref counters.UpstreamFailures);
        string message = string.Join("; then ", failures.Select(f => f.Message));
        Log.WarnLimited("proxy-upstream", $"proxy: {target}: {message}");
        throw new ProxyException(502, message, string.Join("; then ", failures.Select(f => f.GuestMessage)));
    }

    /// <summary>
    /// One route's connection, its reader's buffer taken from the budget first (and given back
    /// when it is disposed); within the connect timeout and <see cref="ProxyLimits.UpstreamAnswer"/>
    /// for the upstream proxy's handshake (see <see cref="UpstreamConnector"/>).
    /// </summary>
    internal async Task<UpstreamConnection> OpenRouteAsync(ProxyRoute route, ProxyTarget target, IPAddress? directAddress, bool forRequest)
    {
        if (!_buffers.TryTake(HttpReader.DefaultBufferLength))
        {
            Interlocked.Increment(ref counters.OverBudget);
            throw new ProxyException(503, "the proxy's buffers are all in use; try again");
        }
        try
        {
            var upstream = forRequest
                ? await connector.OpenForRequestAsync(route, target.Host, target.Port, directAddress).ConfigureAwait(false)
                : await connector.OpenTunnelAsync(route, target.Host, target.Port, directAddress).ConfigureAwait(false);
            upstream.HoldBuffer(_buffers, HttpReader.DefaultBufferLength);
            return upstream;
        }
        catch
        {
            _buffers.Give(HttpReader.DefaultBufferLength);
            throw;
        }
    }

    /// <summary>
    /// Copies both ways; each direction's end is passed on as a half-close. A failure (a reset
    /// far end, above all) resets both: the guest must not take a cut stream for a complete one.
    /// </summary>
    internal static async Task SpliceAsync(Socket client, GuestConnection guest, HttpReader clientReader, UpstreamConnection upstream)
    {
        // A tunnel has no timer (see ProxyLimits): it lasts while either end still sends.
        clientReader.ReadIdleLimit = Timeout.InfiniteTimeSpan;
        var toUpstream = Task.Run(async () =>
        {
            await clientReader.CopyToEndAsync(upstream.Stream, CancellationToken.None).ConfigureAwait(false);
            upstream.ShutdownWrite();
        });
        var toClient = Task.Run(async () =>
        {
            await upstream.Reader.CopyToEndAsync(clientReader.Stream, CancellationToken.None).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        });
        var first = await Task.WhenAny(toUpstream, toClient).ConfigureAwait(false);
        bool reset = first.IsFaulted;
        if (reset)
        {
            // At once: the other direction may be waiting for bytes that will never come.
            await ResetBothAsync(client, guest, upstream).ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            if (!reset)
            {
                await ResetBothAsync(client, guest, upstream).ConfigureAwait(false);
            }
        }
    }

    private static async Task ResetBothAsync(Socket client, GuestConnection guest, UpstreamConnection upstream)
    {
        upstream.Socket.Close(0);
        await guest.ResetAsync().ConfigureAwait(false);
        client.Close(0);
    }

    /// <summary>The error <paramref name="e"/> as the guest may hear it (<see cref="ProxyException.GuestMessage"/>).</summary>
    internal static Task WriteErrorAsync(Stream client, ProxyException e, bool keepAlive) =>
        WriteErrorAsync(client, e.Status, e.GuestMessage, keepAlive);

    /// <summary>An error response; any user:password@ left in <paramref name="message"/> is masked on the way out.</summary>
    internal static Task WriteErrorAsync(Stream client, int status, string message, bool keepAlive)
    {
        message = Redaction.Redact(message);
        byte[] body = Encoding.UTF8.GetBytes($"usernet proxy: {message}\n");
        // Also in a field: clients show a failed CONNECT's fields (curl -v) but not its body.
        string field = new(message.Select(c => c is >= ' ' and < (char)0x7F ? c : '?').ToArray());
        string head = $"HTTP/1.1 {status} {HttpStatus.ReasonPhrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\n"
            + $"X-Usernet-Error: {field}\r\n"
            + $"Connection: {(keepAlive ? "keep-alive" : "close")}\r\n\r\n";
        byte[] response = [.. Encoding.ASCII.GetBytes(head), .. body];
        return client.WriteAsync(response).AsTask();
    }
}
