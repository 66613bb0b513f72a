using System.Net;
using System.Net.Sockets;

namespace Usernet.Cli.Doctor;

/// <summary>
/// A listener on 127.0.0.1 that sends back what one connection sends, until that connection
/// shuts its side: the far end of the probe's TCP step.
/// </summary>
internal sealed class EchoListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public EchoListener()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(4);
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        new Thread(Serve) { IsBackground = true, Name = "doctor echo" }.Start();
    }

    public int Port { get; }

    private void Serve()
    {
        try
        {
            using var connection = _socket.Accept();
            connection.ReceiveTimeout = 5000;
            byte[] buffer = new byte[4096];
            int n;
            while ((n = connection.Receive(buffer)) > 0)
            {
                connection.Send(buffer, n, SocketFlags.None);
            }
            connection.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed by Dispose, or the probe went away: its step reports that.
        }
    }

    public void Dispose() => _socket.Dispose();
}
