using System.Net;
using System.Net.Sockets;

namespace Usernet.Tests.Support;

/// <summary>
/// A TCP listener on 127.0.0.1, on a port the kernel chose: the host end that a guest's
/// connection reaches through Usernet, served by the test. Disposing closes it, and every
/// connection that <see cref="ServeEach"/> accepted.
/// </summary>
internal sealed class LoopbackListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _served = new();
    private bool _disposed;

    public LoopbackListener(int backlog = (int)SocketOptionName.MaxConnections)
    {
        _listener.Start(backlog);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>Accepts one connection and serves it with <paramref name="serve"/> on the thread pool; the task ends with it.</summary>
    public Task<T> ServeOne<T>(Func<TcpClient, Task<T>> serve) => Task.Run(async () =>
    {
        using var client = await _listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        return await serve(client);
    }, TestContext.Current.CancellationToken);

    /// <inheritdoc cref="ServeOne{T}"/>
    public Task ServeOne(Func<TcpClient, Task> serve) => ServeOne(async client =>
    {
        await serve(client);
        return true;
    });

    /// <summary>
    /// Accepts every connection until disposed and serves each with <paramref name="serve"/>
    /// on the thread pool, side by side; a connection the peer or the test closes ends its own.
    /// </summary>
    public void ServeEach(Func<TcpClient, Task> serve) => _ = Task.Run(async () =>
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync();
                lock (_served)
                {
                    if (_disposed)
                    {
                        client.Dispose();
                        return;
                    }
                    _served.Add(client);
                }
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await serve(client);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException)
                    {
                        // The guest or the test closed it.
                    }
                });
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    });

    /// <summary>Serves each connection by sending back whatever comes, until the peer closes.</summary>
    public void EchoEach() => ServeEach(async client =>
    {
        var stream = client.GetStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n));
        }
    });

    public void Dispose()
    {
        _listener.Dispose();
        lock (_served)
        {
            _disposed = true;
            _served.ForEach(client => client.Dispose());
        }
    }
}
