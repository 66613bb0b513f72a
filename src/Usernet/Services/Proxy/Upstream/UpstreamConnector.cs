using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Usernet.Config;
using Usernet.Http;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// Opens connections along a <see cref="ProxyRoute"/>: straight to the destination, through
/// an HTTP proxy's CONNECT (RFC 9110 §9.3.6) with Basic, Negotiate or NTLM authentication, or
/// through a SOCKS5 proxy. Credentials go only into the handshake; every message names an
/// upstream by its masked URL. Opening takes at most the connect timeout and then
/// <paramref name="answerTimeout"/> (see <see cref="ProxyLimits.UpstreamAnswer"/>) for the
/// name lookup and an upstream proxy's handshake: one that accepts and never answers costs a
/// guest's request that long, then 504.
/// </summary>
internal sealed class UpstreamConnector(IProxyNameResolver resolver, DirectMapper mapDirect, TimeSpan connectTimeout, TimeSpan answerTimeout)
{
    public IProxyNameResolver Resolver => resolver;

    /// <summary>Which upstream proxies asked for Negotiate or NTLM: their new connections authenticate pre-emptively.</summary>
    public UpstreamSchemes Schemes { get; } = new();

    /// <summary>
    /// A connection for one HTTP request to <paramref name="host"/>: to an HTTP proxy itself
    /// (the request then goes in absolute form), else as <see cref="OpenTunnelAsync"/>.
    /// </summary>
    public Task<UpstreamConnection> OpenForRequestAsync(ProxyRoute route, string host, int port, IPAddress? directAddress) =>
        WithinDeadlineAsync(route, cancel => route.Kind == ProxyRouteKind.Http
            ? OpenToHttpProxyAsync(route, host, port, cancel)
            : OpenTunnelAsync(route, host, port, directAddress, cancel));

    /// <summary>
    /// A byte stream to host:port. Direct connections go to <paramref name="directAddress"/>
    /// when given (a transparent connection's own destination), else to the name's addresses.
    /// </summary>
    public Task<UpstreamConnection> OpenTunnelAsync(ProxyRoute route, string host, int port, IPAddress? directAddress) =>
        WithinDeadlineAsync(route, cancel => OpenTunnelAsync(route, host, port, directAddress, cancel));

    private async Task<UpstreamConnection> WithinDeadlineAsync(ProxyRoute route, Func<CancellationToken, Task<UpstreamConnection>> open)
    {
        var limit = connectTimeout + answerTimeout;
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            return await open(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            string who = route.Kind == ProxyRouteKind.Direct ? "the destination" : "the upstream proxy";
            throw new ProxyException(504, $"{who} did not complete the connection within {limit.TotalSeconds:0.#} s");
        }
    }

    private async Task<UpstreamConnection> OpenToHttpProxyAsync(ProxyRoute route, string host, int port, CancellationToken cancel)
    {
        var proxy = route.Upstream!;
        var (socket, stream) = await ConnectToProxyAsync(proxy, cancel).ConfigureAwait(false);
        return new UpstreamConnection(socket, stream, route, $"{host}:{port}")
        {
            SpeaksToHttpProxy = true,
            ProxyAuthorization = ProxyAuthentication.BasicAuthorization(proxy),
        };
    }

    private async Task<UpstreamConnection> OpenTunnelAsync(ProxyRoute route, string host, int port, IPAddress? directAddress, CancellationToken cancel)
    {
        string destination = $"{host}:{port}";
        switch (route.Kind)
        {
            case ProxyRouteKind.Direct:
            {
                IPAddress[] addresses = directAddress is not null ? [directAddress] : await resolver.ResolveAsync(host, cancel).ConfigureAwait(false);
                var mapped = new List<IPAddress>();
                string? denial = null;
                foreach (var address in addresses)
                {
                    if (mapDirect(address, host, port, out string? why) is { } target)
                    {
                        mapped.Add(target);
                    }
                    denial ??= why;
                }
                if (mapped.Count == 0)
                {
                    throw denial is not null
                        ? new ProxyException(403, $"{destination} is denied by the egress policy: {denial}")
                        : new ProxyException(502, $"{host} is Usernet's own gateway or an address the guest may not reach");
                }
                var socket = await SocketConnector.ConnectAsync(mapped, port, host, connectTimeout, cancel).ConfigureAwait(false);
                return new UpstreamConnection(socket, new NetworkStream(socket, ownsSocket: false), route, destination);
            }
            case ProxyRouteKind.Socks:
            {
                var proxy = route.Upstream!;
                string target = host;
                if (proxy.Scheme == "socks5")
                {
                    // socks5:// resolves here (socks5h:// leaves the name to the proxy).
                    target = (directAddress ?? (await resolver.ResolveAsync(host, cancel).ConfigureAwait(false))[0]).ToString();
                }
                var (socket, stream) = await ConnectToProxyAsync(proxy, cancel).ConfigureAwait(false);
                try
                {
                    await Socks5Client.ConnectAsync(stream, proxy, target, port, cancel).ConfigureAwait(false);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                return new UpstreamConnection(socket, stream, route, destination);
            }
            case ProxyRouteKind.Http:
                return await ConnectThroughHttpProxyAsync(route, host, port, cancel).ConfigureAwait(false);
            default:
                throw new ProxyException(403, route.Reason ?? "blocked by the proxy settings");
        }
    }

    private async Task<UpstreamConnection> ConnectThroughHttpProxyAsync(ProxyRoute route, string host, int port, CancellationToken cancel)
    {
        var proxy = route.Upstream!;
        string authority = host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
        using var authentication = new ProxyAuthentication(proxy, ProxyAuthentication.BasicAuthorization(proxy), Schemes);
        authentication.Preempt();
        UpstreamConnection? connection = null;
        try
        {
            while (true)
            {
                if (connection is null)
                {
                    var (socket, stream) = await ConnectToProxyAsync(proxy, cancel).ConfigureAwait(false);
                    connection = new UpstreamConnection(socket, stream, route, $"{host}:{port}");
                }
                string request = $"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
                    + (authentication.Authorization is { } authorization ? $"Proxy-Authorization: {authorization}\r\n" : "") + "\r\n";
                await connection.Stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancel).ConfigureAwait(false);
                var response = await ReadResponseAsync(connection, proxy, cancel).ConfigureAwait(false);
                if (response.Status is >= 200 and < 300)
                {
                    var established = connection;
                    connection = null;
                    return established;
                }
                if (response.Status != 407)
                {
                    throw ProxyException.Upstream(
                        $"the upstream proxy {proxy} answered CONNECT {authority} with {response.Status} {response.Reason}",
                        $"answered CONNECT {authority} with {response.Status} {response.Reason}");
                }
                authentication.Answer(response);
                if (!await SkipBodyAsync(connection.Reader, response, cancel).ConfigureAwait(false) || ClosesAfter(response))
                {
                    connection.Dispose();
                    connection = null;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Whether the proxy closes its connection after <paramref name="response"/> (RFC 9112 §9.3).</summary>
    public static bool ClosesAfter(HttpResponseHead response) => response.Version == "HTTP/1.0"
        ? !response.Headers.HasToken("Connection", "keep-alive") && !response.Headers.HasToken("Proxy-Connection", "keep-alive")
        : response.Headers.HasToken("Connection", "close") || response.Headers.HasToken("Proxy-Connection", "close");

    private static async Task<HttpResponseHead> ReadResponseAsync(UpstreamConnection connection, ProxyUri proxy, CancellationToken cancel)
    {
        try
        {
            while (true)
            {
                byte[] head = await connection.Reader.ReadHeadAsync(cancel).ConfigureAwait(false)
                    ?? throw ProxyException.Upstream($"the upstream proxy {proxy} closed the connection without answering", "closed the connection without answering");
                var response = HttpHeadParser.ParseResponse(head);
                if (!response.IsInterim)
                {
                    return response;
                }
            }
        }
        catch (HttpFormatException e)
        {
            throw ProxyException.Upstream($"the upstream proxy {proxy} sent a malformed response: {e.Message}", "sent a malformed response");
        }
        catch (IOException)
        {
            throw ProxyException.Upstream($"the upstream proxy {proxy} closed the connection without answering", "closed the connection without answering");
        }
    }

    /// <summary>Reads past a response's body; false when it runs to the end of the connection.</summary>
    public static async Task<bool> SkipBodyAsync(HttpReader reader, HttpResponseHead response, CancellationToken cancel)
    {
        if (HttpHeadParser.IsChunked(response.Headers))
        {
            await reader.CopyChunkedAsync(Stream.Null, cancel).ConfigureAwait(false);
            return true;
        }
        if (HttpHeadParser.ContentLength(response.Headers) is { } length)
        {
            await reader.CopyAsync(length, Stream.Null, cancel).ConfigureAwait(false);
            return true;
        }
        return false;
    }

    private async Task<(Socket, Stream)> ConnectToProxyAsync(ProxyUri proxy, CancellationToken cancel)
    {
        IPAddress[] addresses = IPAddress.TryParse(proxy.Host, out var literal) ? [literal] : await resolver.ResolveAsync(proxy.Host, cancel).ConfigureAwait(false);
        var socket = await SocketConnector.ConnectAsync(addresses, proxy.Port, $"the upstream proxy {proxy}", connectTimeout, cancel, guestWhat: "the upstream proxy").ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (proxy.Scheme == "https")
        {
            var tls = new SslStream(stream, leaveInnerStreamOpen: false);
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = proxy.Host }, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                socket.Dispose();
                throw new ProxyException(502, $"TLS with the upstream proxy {proxy} failed: {e.Message}", "TLS with the upstream proxy failed");
            }
            stream = tls;
        }
        return (socket, stream);
    }
}
