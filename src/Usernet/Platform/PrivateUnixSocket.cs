using System.Net.Sockets;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>A listening unix socket that only its owner may connect to (mode 0600).</summary>
internal static class PrivateUnixSocket
{
    /// <summary>Whether something accepts connections at <paramref name="path"/> (a socket file left by a process that died does not).</summary>
    public static bool IsLive(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Listens at <paramref name="path"/>, replacing a socket file nobody serves any more; null
    /// when something still serves it.
    /// </summary>
    public static Socket? ListenUnlessLive(string path, int backlog)
    {
        if (IsLive(path))
        {
            return null;
        }
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        return Listen(path, backlog);
    }

    /// <summary>
    /// Binds and listens at <paramref name="path"/>. The socket is created owner-only
    /// (<see cref="OwnerOnlyFiles"/>), so that it is never, even between bind and chmod, open to
    /// others; the chmod only takes off the x bit.
    /// </summary>
    public static Socket Listen(string path, int backlog)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            OwnerOnlyFiles.Create(() => listener.Bind(new UnixDomainSocketEndPoint(path)));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }
}
