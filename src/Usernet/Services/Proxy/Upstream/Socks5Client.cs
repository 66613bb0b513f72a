using System.Net.Sockets;
using Usernet.Config;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>Opens a tunnel through a SOCKS5 proxy (RFC 1928), with username and password (RFC 1929) when the URL has them.</summary>
internal static class Socks5Client
{
    public static async Task<Stream> ConnectAsync(Stream stream, ProxyUri proxy, string host, int port, CancellationToken cancel)
    {
        bool withPassword = proxy.User is not null;
        await stream.WriteAsync(Socks5Messages.Greeting(withPassword), cancel).ConfigureAwait(false);
        byte[] reply = new byte[262];
        await ReadExactlyAsync(stream, reply.AsMemory(0, 2), proxy, cancel).ConfigureAwait(false);
        if (reply[0] != Socks5Messages.Version)
        {
            throw ProxyException.Upstream($"the upstream {proxy} does not speak SOCKS5", "does not speak SOCKS5");
        }
        switch (reply[1])
        {
            case Socks5Messages.NoAuthentication:
                break;
            case Socks5Messages.UsernamePassword when withPassword:
                byte[] request = Socks5Messages.UsernamePasswordRequest(proxy.User!, proxy.Password ?? "")
                    ?? throw ProxyException.Upstream($"the user or password for {proxy} is longer than SOCKS5 allows", "needs a user or password longer than SOCKS5 allows");
                await stream.WriteAsync(request, cancel).ConfigureAwait(false);
                await ReadExactlyAsync(stream, reply.AsMemory(0, 2), proxy, cancel).ConfigureAwait(false);
                if (reply[1] != 0)
                {
                    throw ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} refused authentication (RFC 1929 status {reply[1]})",
                        $"refused authentication (RFC 1929 status {reply[1]})");
                }
                break;
            case Socks5Messages.NoAcceptableMethod:
                throw withPassword
                    ? ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} refused authentication: it accepts neither no authentication nor a user and password",
                        "refused authentication: it accepts neither no authentication nor a user and password")
                    : ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} refused authentication: it requires a user and password, and its URL has none",
                        "refused authentication: it requires a user and password");
            default:
                throw ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} chose authentication method {reply[1]}, which was not offered",
                    $"chose SOCKS5 authentication method {reply[1]}, which was not offered");
        }
        await stream.WriteAsync(Socks5Messages.Connect(host, port), cancel).ConfigureAwait(false);
        await ReadExactlyAsync(stream, reply.AsMemory(0, 5), proxy, cancel).ConfigureAwait(false);
        int length = Socks5Messages.ReplyLength(reply);
        if (length < 0)
        {
            throw ProxyException.Upstream($"the upstream {proxy} sent a malformed SOCKS5 reply", "sent a malformed SOCKS5 reply");
        }
        await ReadExactlyAsync(stream, reply.AsMemory(5, length - 5), proxy, cancel).ConfigureAwait(false);
        if (reply[1] != 0)
        {
            throw ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} could not connect to {host}:{port}: {Socks5Messages.DescribeReply(reply[1])}",
                $"could not connect to {host}:{port}: {Socks5Messages.DescribeReply(reply[1])}");
        }
        return stream;
    }

    private static async Task ReadExactlyAsync(Stream stream, Memory<byte> buffer, ProxyUri proxy, CancellationToken cancel)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or SocketException)
        {
            throw ProxyException.Upstream($"the upstream SOCKS5 proxy {proxy} closed the connection during the handshake", "closed the connection during the SOCKS5 handshake");
        }
    }
}
