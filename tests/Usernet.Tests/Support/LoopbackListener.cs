using System.Net;
using System.Net.Sockets;

namespace Usernet.Tests.Support;

/// <summary>
/// A TCP listener on 127.0.0.1, on a port the kernel chose: the host end that a guest's
/// connection reaches through Usernet, served by the test. Disposing closes it.
/// </summary>
internal sealed class LoopbackListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

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

    public void Dispose() => _listener.Dispose();
}
