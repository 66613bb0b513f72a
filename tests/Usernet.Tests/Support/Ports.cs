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

    /// <summary>The first of <paramref name="count"/> consecutive TCP ports free on every IPv4 address a moment ago.</summary>
    public static int FreeRange(int count)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int first = Free();
            var sockets = new List<Socket>();
            try
            {
                for (int port = first; port < first + count; port++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Any, port));
                }
                return first;
            }
            catch (SocketException)
            {
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free ports");
    }

    /// <summary>Whether something accepts a TCP connection on 127.0.0.1:<paramref name="port"/> (a published port, say).</summary>
    public static bool Accepts(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
