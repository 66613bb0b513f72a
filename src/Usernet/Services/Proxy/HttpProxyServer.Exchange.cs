using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Http;
using Usernet.Nat;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Services.Proxy;

internal sealed partial class HttpProxyServer
{
    /// <summary>
    /// One plain HTTP request and its response: the request goes on without its hop-by-hop
    /// fields (to an origin in origin-form, to an upstream proxy in absolute-form with our
    /// credentials); the body streams up while the response is awaited, so that
    /// Expect: 100-continue and early answers work; interim responses are relayed; a 101 turns
    /// the connection into a tunnel. An upstream proxy's 407 offering Negotiate or NTLM is
    /// answered on the same connection by sending the request again with each leg's token; so
    /// that a body can be sent again, one of up to <see cref="MaxReplayableBody"/> bytes to an
    /// HTTP proxy is read whole before the request goes. Once that proxy has asked, a new
    /// connection's first request carries the first token (<see cref="UpstreamSchemes"/>): with
    /// Kerberos, a larger or chunked body then needs no second trip.
    /// </summary>
    private sealed class Exchange(HttpProxyServer server, Socket socket, GuestConnection guest, NetworkStream client, HttpReader reader,
        HttpRequestHead request, IPEndPoint? transparent, UpstreamConnection? previous)
    {
        /// <summary>
        /// The largest request body kept for a Negotiate or NTLM exchange to send again: small
        /// enough that every connection the proxy serves could hold one.
        /// </summary>
        public const int MaxReplayableBody = 64 * 1024;

        /// <summary>How long the rest of a request body is read after an early answer before the guest's connection is given up.</summary>
        public static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(30);

        private UpstreamConnection? _upstream;

        /// <summary>The bytes of the budget the kept request body holds, given back when the exchange ends.</summary>
        private long _keptBody;

        /// <summary>Cancelled when the exchange ends: a request body still being read then is abandoned with it.</summary>
        private readonly CancellationTokenSource _ended = new();

        /// <summary>The upstream connection to keep for the next request, if it may be reused.</summary>
        public UpstreamConnection? ReusableUpstream { get; private set; }

        /// <summary>Serves the request; false when the guest connection must close after it.</summary>
        public async Task<bool> RunAsync()
        {
            if (!TryTarget(out var target, out string path, out string? error))
            {
                Interlocked.Increment(ref server.Counters.Malformed);
                previous?.Dispose();
                await WriteErrorAsync(client, 400, error!, keepAlive: false).ConfigureAwait(false);
                return false;
            }
            bool hasBody = HttpHeadParser.IsChunked(request.Headers) || HttpHeadParser.ContentLength(request.Headers) is > 0;
            string url = $"http://{target.Authority}{path}";
            var current = server.CurrentPolicy;
            try
            {
                var routes = await current.ChooseAsync("http", target.Host, target.Port, url, transparent?.Address).ConfigureAwait(false);
                if (previous is not null && previous.Destination == target.Authority && routes.Count > 0 && routes[0] == previous.Route)
                {
                    _upstream = previous;
                }
                else
                {
                    previous?.Dispose();
                    _upstream = await server.OpenAsync(current, "http", target, url, transparent?.Address, forRequest: true).ConfigureAwait(false);
                }
            }
            catch (ProxyException e)
            {
                await WriteErrorAsync(client, e, keepAlive: !hasBody && request.KeepAlive).ConfigureAwait(false);
                return !hasBody && request.KeepAlive;
            }
            try
            {
                return await ForwardAsync(target, path, hasBody, reused: _upstream == previous).ConfigureAwait(false);
            }
            finally
            {
                if (ReusableUpstream != _upstream)
                {
                    _upstream?.Dispose();
                }
                server._buffers.Give(_keptBody);
                _ended.Cancel();
            }
        }

        private bool TryTarget(out ProxyTarget target, out string path, out string? error)
        {
            target = default;
            path = "/";
            error = null;
            string text = request.Target;
            if (text.StartsWith('/') && transparent is not null)
            {
                // A transparent connection: the guest thinks it speaks to the origin itself.
                path = text;
                string? host = request.Headers.Get("Host");
                if (host is null)
                {
                    target = new ProxyTarget(transparent.Address.ToString(), transparent.Port);
                    return true;
                }
                if (!ProxyTarget.TryParseAuthority(host, transparent.Port, out target))
                {
                    error = $"the Host field \"{host}\" is not host[:port]";
                    return false;
                }
                return true;
            }
            if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                error = "https:// URLs go through CONNECT (curl does that by itself with -x)";
                return false;
            }
            if (!text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("ws://", StringComparison.OrdinalIgnoreCase))
            {
                error = $"the target \"{text}\" is not an absolute http:// URL, as requests to a proxy must be";
                return false;
            }
            string rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
            int slash = rest.IndexOfAny(['/', '?']);
            string authority = slash < 0 ? rest : rest[..slash];
            path = slash < 0 ? "/" : rest[slash] == '?' ? "/" + rest[slash..] : rest[slash..];
            if (authority.Contains('@') || !ProxyTarget.TryParseAuthority(authority, 80, out target))
            {
                error = $"the URL's host \"{authority}\" is not host[:port] with a numeric port";
                return false;
            }
            return true;
        }

        private async Task<bool> ForwardAsync(ProxyTarget target, string path, bool hasBody, bool reused)
        {
            var upstream = _upstream!;
            var headers = request.Headers;
            bool upgrade = headers.HasToken("Connection", "upgrade") && headers.Get("Upgrade") is not null;
            string? upgradeProtocol = headers.Get("Upgrade");
            bool chunked = HttpHeadParser.IsChunked(headers);
            // RFC 9110 §10.1.1: an HTTP/1.0 client's 100-continue expectation is ignored.
            bool expectContinue = !request.IsHttp10 && string.Equals(headers.Get("Expect"), "100-continue", StringComparison.OrdinalIgnoreCase);
            // Read before the hop-by-hop fields go: a client's "Connection: close" is among them.
            bool clientWantsKeepAlive = request.KeepAlive;
            headers.RemoveHopByHop();
            headers.Set("Host", target.Port == 80 ? (target.Host.Contains(':') ? $"[{target.Host}]" : target.Host) : target.Authority);
            if (chunked)
            {
                headers.Add("Transfer-Encoding", "chunked");
            }
            if (upgrade)
            {
                headers.Add("Connection", "upgrade");
                headers.Add("Upgrade", upgradeProtocol!);
            }
            // The body is read with a limit on silence (a trickled body ends); tunnels and the
            // next head set their own.
            reader.ReadIdleLimit = server._limits.RequestBodyIdle;
            byte[]? replayable = null;
            if (upstream.SpeaksToHttpProxy && hasBody && !chunked && HttpHeadParser.ContentLength(headers) is { } length and <= MaxReplayableBody)
            {
                if (!server._buffers.TryTake(length))
                {
                    Interlocked.Increment(ref server.Counters.OverBudget);
                    await WriteErrorAsync(client, 503, "the proxy's buffers are all in use; try again", keepAlive: false).ConfigureAwait(false);
                    return false;
                }
                _keptBody = length;
                // Taken now, so the guest's expectation is met here rather than by the upstream.
                if (expectContinue)
                {
                    await client.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray()).ConfigureAwait(false);
                    expectContinue = false;
                }
                headers.Remove("Expect");
                var kept = new MemoryStream((int)length);
                try
                {
                    await reader.CopyAsync(length, kept, _ended.Token).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    return false;
                }
                catch (TimeoutException e)
                {
                    Interlocked.Increment(ref server.Counters.Timeouts);
                    await WriteErrorAsync(client, 408, $"the request body stopped: {e.Message}", keepAlive: false).ConfigureAwait(false);
                    return false;
                }
                replayable = kept.GetBuffer();
            }

            using var authentication = upstream.SpeaksToHttpProxy
                ? new ProxyAuthentication(upstream.Route.Upstream!, upstream.ProxyAuthorization, server.Connector.Schemes) : null;
            if (authentication is not null && !upstream.IsAuthenticated)
            {
                authentication.Preempt();
            }
            HttpResponseHead? response;
            ForwardOrDiscardStream sink;
            Task body;
            while (true)
            {
                headers.Remove("Proxy-Authorization");
                if (authentication?.Authorization is { } authorization)
                {
                    headers.Add("Proxy-Authorization", authorization);
                }
                string requestTarget = upstream.SpeaksToHttpProxy ? $"http://{headers.Get("Host")}{path}" : path;
                var outgoing = new HttpRequestHead(request.Method, requestTarget, "HTTP/1.1", headers);
                await upstream.Stream.WriteAsync(Encoding.Latin1.GetBytes(outgoing.Format())).ConfigureAwait(false);
                sink = new ForwardOrDiscardStream(upstream.Stream, server._limits.RequestBodyIdle);
                var destination = sink;
                body = replayable is not null ? sink.WriteAsync(replayable).AsTask()
                    : hasBody ? Task.Run(() => CopyRequestBodyAsync(destination, chunked)) : Task.CompletedTask;
                response = await ReadFinalResponseAsync(upstream, body, expectContinue, reused).ConfigureAwait(false);
                if (response is null)
                {
                    return false;
                }
                if (response.Status != 407 || authentication is null)
                {
                    break;
                }
                try
                {
                    authentication.Answer(response);
                    if (hasBody && replayable is null)
                    {
                        string why = $"asks for {authentication.Scheme}, whose exchange sends the request again,"
                            + $" but its body ({(chunked ? "chunked" : "over " + MaxReplayableBody / 1024 + " KiB")}) was not kept;"
                            + (authentication.Scheme == "Negotiate" && !authentication.BeganPreemptively
                                ? " send it again: now that the proxy has asked, Usernet sends its Kerberos token with the request"
                                : " it can go through CONNECT instead");
                        throw ProxyException.Upstream($"the upstream proxy {upstream.Route.Upstream} {why}", why);
                    }
                    if (!await LegMayFollowAsync(upstream, response, body).ConfigureAwait(false) || sink.Failed)
                    {
                        // The next leg goes on a new connection (the first always may: nothing is bound yet).
                        upstream.Dispose();
                        _upstream = null;
                        _upstream = upstream = await server.OpenRouteAsync(upstream.Route, target, transparent?.Address, forRequest: true).ConfigureAwait(false);
                        reused = false;
                    }
                }
                catch (ProxyException e)
                {
                    Interlocked.Increment(ref server.Counters.UpstreamFailures);
                    Log.WarnLimited("proxy-auth", $"proxy: {e.Message}");
                    await WriteErrorAsync(client, 502, e.GuestMessage, keepAlive: false).ConfigureAwait(false);
                    return false;
                }
            }
            if (authentication is { IsConnectionBound: true })
            {
                // The exchange authenticated this connection: later requests on it need no token.
                upstream.ProxyAuthorization = null;
                upstream.IsAuthenticated = true;
            }
            if (response.Status == 101)
            {
                await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
                await SpliceAsync(socket, guest, reader, upstream).ConfigureAwait(false);
                return false;
            }

            bool noBody = request.Method == "HEAD" || response.Status is 204 or 304;
            bool responseChunked = !noBody && HttpHeadParser.IsChunked(response.Headers);
            long? responseLength = noBody ? 0 : HttpHeadParser.ContentLength(response.Headers);
            bool untilClose = !noBody && !responseChunked && responseLength is null;
            // RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client; its body ends with the connection.
            bool decodeChunks = responseChunked && request.IsHttp10;
            bool upstreamKeeps = !untilClose && !UpstreamConnector.ClosesAfter(response);
            bool clientKeeps = clientWantsKeepAlive && !untilClose && !request.IsHttp10;
            response.Headers.RemoveHopByHop();
            if (responseChunked && !decodeChunks)
            {
                response.Headers.Add("Transfer-Encoding", "chunked");
            }
            response.Headers.Add("Connection", clientKeeps ? "keep-alive" : "close");
            await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
            // An answer's body has no timer, as a tunnel has none: it may stream for as long as
            // its server sends (a download, events), and the guest reads it at its own pace.
            if (responseChunked)
            {
                await upstream.Reader.CopyChunkedAsync(client, CancellationToken.None, decode: decodeChunks).ConfigureAwait(false);
            }
            else if (untilClose)
            {
                await upstream.Reader.CopyToEndAsync(client, CancellationToken.None).ConfigureAwait(false);
            }
            else if (responseLength > 0)
            {
                await upstream.Reader.CopyAsync(responseLength.Value, client, CancellationToken.None).ConfigureAwait(false);
            }
            if (!body.IsCompleted)
            {
                // The server answered before taking the whole body, as nginx does right after its
                // 100 Continue when it discards the body. The upstream connection cannot go on, but
                // the guest's can: it may still be sending, and closing it with bytes unread would
                // reset it, which can overtake the answer (RFC 9112 §9.6). So the rest is read and
                // dropped (the sink's writes fail once the upstream is closed), for a while.
                upstream.Socket.Close(0);
                try
                {
                    await body.WaitAsync(LingerTimeout).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or IOException or SocketException or ObjectDisposedException or HttpFormatException)
                {
                    return false;
                }
                return clientKeeps;
            }
            if (body.IsFaulted)
            {
                return false;
            }
            if (upstreamKeeps && !sink.Failed)
            {
                ReusableUpstream = upstream;
            }
            return clientKeeps;
        }

        /// <summary>
        /// The upstream's final response (or 101), relaying the interim ones the guest may see;
        /// null when the exchange failed and the guest has been told.
        /// </summary>
        private async Task<HttpResponseHead?> ReadFinalResponseAsync(UpstreamConnection upstream, Task body, bool relayContinue, bool reused)
        {
            // The upstream's time to answer starts once it has the whole request: an upload
            // takes as long as it takes, and only then is the server's silence a stall.
            using var answer = new CancellationTokenSource();
            var limit = server._limits.UpstreamAnswer;
            _ = body.ContinueWith(static (_, state) =>
            {
                var (source, after) = ((CancellationTokenSource, TimeSpan))state!;
                try
                {
                    source.CancelAfter(after);
                }
                catch (ObjectDisposedException)
                {
                    // The answer came first.
                }
            }, (answer, limit), TaskScheduler.Default);
            while (true)
            {
                var headTask = ReadResponseHeadAsync(upstream, answer.Token);
                if (await Task.WhenAny(headTask, body).ConfigureAwait(false) == body && body.IsFaulted)
                {
                    upstream.Socket.Close(0);
                    await FailBodyAsync(body).ConfigureAwait(false);
                    return null;
                }
                HttpResponseHead? response;
                try
                {
                    response = await headTask.ConfigureAwait(false);
                }
                catch (ProxyException e)
                {
                    await WriteErrorAsync(client, e, keepAlive: false).ConfigureAwait(false);
                    return null;
                }
                catch (OperationCanceledException) when (answer.IsCancellationRequested)
                {
                    Interlocked.Increment(ref server.Counters.Timeouts);
                    upstream.Socket.Close(0);
                    await WriteErrorAsync(client, 504, $"{Describe(upstream)} did not answer within {limit.TotalSeconds:0.#} s", keepAlive: false).ConfigureAwait(false);
                    return null;
                }
                if (response is null)
                {
                    string what = reused ? "closed the reused connection" : "closed the connection";
                    await WriteErrorAsync(client, 502, $"{Describe(upstream)} {what} without answering", keepAlive: false).ConfigureAwait(false);
                    return null;
                }
                if (!response.IsInterim || response.Status == 101)
                {
                    return response;
                }
                // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client, and 100 only to one that asked.
                if (!request.IsHttp10 && (response.Status != 100 || relayContinue))
                {
                    await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
                }
            }
        }

        /// <summary>
        /// After a 407, whether the next leg of the exchange may go on the same connection: the
        /// 407's body read past, the request's body all sent, and the proxy not closing.
        /// </summary>
        private async Task<bool> LegMayFollowAsync(UpstreamConnection upstream, HttpResponseHead response, Task body)
        {
            try
            {
                await body.ConfigureAwait(false);
                using var answer = new CancellationTokenSource(server._limits.UpstreamAnswer);
                return await UpstreamConnector.SkipBodyAsync(upstream.Reader, response, answer.Token).ConfigureAwait(false)
                    && !UpstreamConnector.ClosesAfter(response);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or HttpFormatException or OperationCanceledException
                or TimeoutException)
            {
                return false;
            }
        }

        /// <summary>
        /// The request body from the guest to the upstream. Reads from the guest are bounded by
        /// <see cref="ProxyLimits.RequestBodyIdle"/> (set on the reader for this phase); the
        /// writes are bounded by the upstream reading them, or failing, which the sink absorbs.
        /// </summary>
        private async Task CopyRequestBodyAsync(ForwardOrDiscardStream destination, bool chunked)
        {
            var ended = _ended.Token;
            if (chunked)
            {
                await reader.CopyChunkedAsync(destination, ended).ConfigureAwait(false);
            }
            else
            {
                await reader.CopyAsync(HttpHeadParser.ContentLength(request.Headers) ?? 0, destination, ended).ConfigureAwait(false);
            }
        }

        private async Task FailBodyAsync(Task body)
        {
            switch (body.Exception?.InnerException)
            {
                case HttpFormatException e:
                    Interlocked.Increment(ref server.Counters.Malformed);
                    await WriteErrorAsync(client, 400, $"malformed request body: {e.Message}", keepAlive: false).ConfigureAwait(false);
                    break;
                case TimeoutException e:
                    Interlocked.Increment(ref server.Counters.Timeouts);
                    await WriteErrorAsync(client, 408, $"the request body stopped: {e.Message}", keepAlive: false).ConfigureAwait(false);
                    break;
            }
        }

        private static async Task<HttpResponseHead?> ReadResponseHeadAsync(UpstreamConnection upstream, CancellationToken answer)
        {
            try
            {
                byte[]? head = await upstream.Reader.ReadHeadAsync(answer).ConfigureAwait(false);
                return head is null ? null : HttpHeadParser.ParseResponse(head);
            }
            catch (HttpFormatException e)
            {
                throw new ProxyException(502, $"{Describe(upstream)} sent a malformed response: {e.Message}");
            }
            catch (IOException)
            {
                return null;
            }
        }

        /// <summary>Who answered (or did not), as the guest may hear it: an upstream proxy by no address.</summary>
        private static string Describe(UpstreamConnection upstream) =>
            upstream.SpeaksToHttpProxy ? "the upstream proxy" : $"the server {upstream.Destination}";
    }
}
