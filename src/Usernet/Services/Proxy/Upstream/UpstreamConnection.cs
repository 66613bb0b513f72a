using System.Net.Sockets;
using Usernet.Http;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// An open connection towards a destination: straight to it, a tunnel through an upstream
/// proxy, or (for plain HTTP through an HTTP proxy) the connection to the proxy itself, which
/// then takes absolute-form requests. <see cref="Reader"/> holds what was read past a handshake.
/// </summary>
internal sealed class UpstreamConnection(Socket socket, Stream stream, ProxyRoute route, string destination) : IDisposable
{
    public Socket Socket { get; } = socket;

    public Stream Stream { get; } = stream;

    public HttpReader Reader { get; } = new(stream);

    public ProxyRoute Route { get; } = route;

    /// <summary>host:port this connection serves, for reuse by the next request to the same place.</summary>
    public string Destination { get; } = destination;

    /// <summary>Requests go to an HTTP proxy in absolute form, with our credentials.</summary>
    public bool SpeaksToHttpProxy { get; init; }

    /// <summary>
    /// The Proxy-Authorization field for requests to <see cref="Route"/>'s proxy, if any: Basic,
    /// or none once a Negotiate or NTLM exchange has authenticated this connection.
    /// </summary>
    public string? ProxyAuthorization { get; set; }

    /// <summary>Whether a Negotiate or NTLM exchange has authenticated this connection (the proxy binds it to the connection), so later requests on it carry no token.</summary>
    public bool IsAuthenticated { get; set; }

    private ProxyBuffers? _buffers;
    private long _held;

    /// <summary>The <paramref name="bytes"/> this connection's reader holds of <paramref name="buffers"/>, given back when it is disposed.</summary>
    public void HoldBuffer(ProxyBuffers buffers, long bytes)
    {
        _buffers = buffers;
        _held = bytes;
    }

    public void ShutdownWrite()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        Stream.Dispose();
        Socket.Dispose();
        long held = Interlocked.Exchange(ref _held, 0);
        if (held > 0)
        {
            _buffers!.Give(held);
        }
    }
}
