using System.Net;
using System.Net.Sockets;

namespace Usernet.Tests.Support;

/// <summary>Free ports on loopback.</summary>
internal static class Ports
{
    /// <summary>A TCP port of 127.0.0.1 that was free a moment ago (the kernel chose it for a socket that is closed again).</summary>
    public static int Free()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
