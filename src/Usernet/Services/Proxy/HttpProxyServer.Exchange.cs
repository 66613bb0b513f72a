using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Services.Proxy.Http;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Services.Proxy;

internal sealed partial class HttpProxyServer
{
    /// <summary>
    /// One plain HTTP request and its response: the request goes on without its hop-by-hop
    /// fields (to an origin in origin-form, to an upstream proxy in absolute-form with our
    /// credentials); the body streams up while the response is awaited, so that
    /// Expect: 100-continue and early answers work; interim responses are relayed; a 101 turns
    /// the connection into a tunnel.
    /// </summary>
    private sealed class Exchange(HttpProxyServer server, Socket socket, NetworkStream client, HttpReader reader,
        HttpRequestHead request, IPEndPoint? transparent, UpstreamConnection? previous)
    {
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
            UpstreamConnection upstream;
            try
            {
                var routes = await current.ChooseAsync("http", target.Host, target.Port, url, transparent?.Address).ConfigureAwait(false);
                if (previous is not null && previous.Destination == target.Authority && routes.Count > 0 && routes[0] == previous.Route)
                {
                    upstream = previous;
                }
                else
                {
                    previous?.Dispose();
                    upstream = await server.OpenAsync(current, "http", target, url, transparent?.Address, forRequest: true).ConfigureAwait(false);
                }
            }
            catch (ProxyException e)
            {
                await WriteErrorAsync(client, e.Status, e.Message, keepAlive: !hasBody && request.KeepAlive).ConfigureAwait(false);
                return !hasBody && request.KeepAlive;
            }
            bool reused = upstream == previous;
            try
            {
                return await ForwardAsync(upstream, target, path, hasBody, reused).ConfigureAwait(false);
            }
            finally
            {
                if (ReusableUpstream != upstream)
                {
                    upstream.Dispose();
                }
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

        private async Task<bool> ForwardAsync(UpstreamConnection upstream, ProxyTarget target, string path, bool hasBody, bool reused)
        {
            var headers = request.Headers;
            bool upgrade = headers.HasToken("Connection", "upgrade") && headers.Get("Upgrade") is not null;
            string? upgradeProtocol = headers.Get("Upgrade");
            bool chunked = HttpHeadParser.IsChunked(headers);
            bool expectContinue = string.Equals(headers.Get("Expect"), "100-continue", StringComparison.OrdinalIgnoreCase);
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
            if (upstream.SpeaksToHttpProxy && upstream.ProxyAuthorization is { } authorization)
            {
                headers.Add("Proxy-Authorization", authorization);
            }
            request.Target = upstream.SpeaksToHttpProxy ? $"http://{headers.Get("Host")}{path}" : path;
            var outgoing = new HttpRequestHead(request.Method, request.Target, "HTTP/1.1", headers);
            await upstream.Stream.WriteAsync(Encoding.Latin1.GetBytes(outgoing.Format())).ConfigureAwait(false);

            var body = hasBody ? Task.Run(() => CopyRequestBodyAsync(upstream, chunked)) : Task.CompletedTask;
            HttpResponseHead? response;
            while (true)
            {
                var headTask = ReadResponseHeadAsync(upstream);
                if (await Task.WhenAny(headTask, body).ConfigureAwait(false) == body && body.IsFaulted)
                {
                    upstream.Socket.Close(0);
                    return await FailBodyAsync(body).ConfigureAwait(false);
                }
                try
                {
                    response = await headTask.ConfigureAwait(false);
                }
                catch (ProxyException e)
                {
                    await WriteErrorAsync(client, e.Status, e.Message, keepAlive: false).ConfigureAwait(false);
                    return false;
                }
                if (response is null)
                {
                    string what = reused ? "closed the reused connection" : "closed the connection";
                    await WriteErrorAsync(client, 502, $"{Describe(upstream)} {what} without answering", keepAlive: false).ConfigureAwait(false);
                    return false;
                }
                if (!response.IsInterim || response.Status == 101)
                {
                    break;
                }
                if (response.Status != 100 || expectContinue)
                {
                    await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
                }
            }
            if (response.Status == 407 && upstream.SpeaksToHttpProxy)
            {
                Interlocked.Increment(ref server.Counters.UpstreamFailures);
                string offered = string.Join(", ", response.Headers.GetAll("Proxy-Authenticate").Select(c => c.Split(' ')[0]));
                var proxy = upstream.Route.Upstream!;
                string message = $"the upstream proxy {proxy} refused authentication (407 {response.Reason}"
                    + (proxy.User is null ? "; its URL has no user and password" : $" for user {proxy.User}") + $"; it offers: {offered})"
                    + (offered.Contains("Negotiate", StringComparison.OrdinalIgnoreCase) || offered.Contains("NTLM", StringComparison.OrdinalIgnoreCase)
                        ? "; Negotiate and NTLM are done for CONNECT tunnels only" : "");
                Log.WarnLimited("proxy-auth", $"proxy: {message}");
                await WriteErrorAsync(client, 502, message, keepAlive: false).ConfigureAwait(false);
                return false;
            }
            if (response.Status == 101)
            {
                await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
                await SpliceAsync(socket, reader, upstream).ConfigureAwait(false);
                return false;
            }

            bool noBody = request.Method == "HEAD" || response.Status is 204 or 304;
            bool responseChunked = !noBody && HttpHeadParser.IsChunked(response.Headers);
            long? length = noBody ? 0 : HttpHeadParser.ContentLength(response.Headers);
            bool untilClose = !noBody && !responseChunked && length is null;
            bool upstreamKeeps = !untilClose && !response.Headers.HasToken("Connection", "close") && response.Version == "HTTP/1.1";
            bool clientKeeps = request.KeepAlive && !untilClose && !request.IsHttp10;
            response.Headers.RemoveHopByHop();
            if (responseChunked)
            {
                response.Headers.Add("Transfer-Encoding", "chunked");
            }
            response.Headers.Add("Connection", clientKeeps ? "keep-alive" : "close");
            await client.WriteAsync(Encoding.Latin1.GetBytes(response.Format())).ConfigureAwait(false);
            if (responseChunked)
            {
                await upstream.Reader.CopyChunkedAsync(client, CancellationToken.None).ConfigureAwait(false);
            }
            else if (untilClose)
            {
                await upstream.Reader.CopyToEndAsync(client, CancellationToken.None).ConfigureAwait(false);
            }
            else if (length > 0)
            {
                await upstream.Reader.CopyAsync(length.Value, client, CancellationToken.None).ConfigureAwait(false);
            }
            if (!body.IsCompleted)
            {
                // The server answered before taking the whole body: neither connection can go on.
                upstream.Socket.Close(0);
                return false;
            }
            if (body.IsFaulted)
            {
                return false;
            }
            if (upstreamKeeps)
            {
                ReusableUpstream = upstream;
            }
            return clientKeeps;
        }

        private async Task CopyRequestBodyAsync(UpstreamConnection upstream, bool chunked)
        {
            if (chunked)
            {
                await reader.CopyChunkedAsync(upstream.Stream, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await reader.CopyAsync(HttpHeadParser.ContentLength(request.Headers) ?? 0, upstream.Stream, CancellationToken.None).ConfigureAwait(false);
            }
        }

        private async Task<bool> FailBodyAsync(Task body)
        {
            if (body.Exception?.InnerException is HttpFormatException e)
            {
                Interlocked.Increment(ref server.Counters.Malformed);
                await WriteErrorAsync(client, 400, $"malformed request body: {e.Message}", keepAlive: false).ConfigureAwait(false);
            }
            return false;
        }

        private static async Task<HttpResponseHead?> ReadResponseHeadAsync(UpstreamConnection upstream)
        {
            try
            {
                byte[]? head = await upstream.Reader.ReadHeadAsync(CancellationToken.None).ConfigureAwait(false);
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

        private static string Describe(UpstreamConnection upstream) =>
            upstream.SpeaksToHttpProxy ? $"the upstream proxy {upstream.Route.Upstream}" : $"the server {upstream.Destination}";
    }
}
