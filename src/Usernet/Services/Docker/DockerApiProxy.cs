using System.Collections.Concurrent;
using System.Net.Sockets;
using Usernet.Platform;

namespace Usernet.Services.Docker;

/// <summary>
/// The Docker API on the host: a unix socket (mode 0600) whose every connection is carried to
/// the guest's daemon by a <see cref="DockerApiConnection"/>. It runs on the thread pool, off
/// the data path, like the control API.
/// </summary>
internal sealed class DockerApiProxy : IAsyncDisposable
{
    /// <summary>Connections carried at once; each holds two buffers of <see cref="DockerApiConnection.MaxHead"/>.</summary>
    public const int MaxConnections = 1024;

    private readonly string _path;
    private readonly string _daemonSocket;
    private readonly ContainerPorts _ports;
    private readonly ContainerNetworks? _networks;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<DockerApiConnection, bool> _connections = new();
    private Task? _acceptLoop;

    /// <summary>
    /// Listens at <paramref name="path"/>; a stale socket there is replaced, a live one is an
    /// error. <paramref name="networks"/>, when given, is refreshed before the answer to a
    /// request that changes routes or names goes back.
    /// </summary>
    public DockerApiProxy(string path, string daemonSocket, ContainerPorts ports, ContainerNetworks? networks = null)
    {
        _path = path;
        _daemonSocket = daemonSocket;
        _ports = ports;
        _networks = networks;
        _listener = PrivateUnixSocket.ListenUnlessLive(path, 128)
            ?? throw new InvalidOperationException($"something already serves {path}: another usernet docker, or a dockerd; choose another --docker-socket");
    }

    public string SocketPath => _path;

    public void Start() => _acceptLoop = Task.Run(AcceptLoop);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        if (_connections.Count >= MaxConnections)
        {
            await Refuse(client, 503, $"the Docker API proxy carries {MaxConnections} connections at most; close some").ConfigureAwait(false);
            return;
        }
        var daemon = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await daemon.ConnectAsync(new UnixDomainSocketEndPoint(_daemonSocket), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            daemon.Dispose();
            await Refuse(client, 500, $"the Docker daemon in the Usernet guest does not answer ({e.Message})").ConfigureAwait(false);
            return;
        }
        var connection = new DockerApiConnection(client, daemon, _ports, _networks);
        _connections[connection] = true;
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    private static async Task Refuse(Socket client, int status, string message)
    {
        using var _ = client;
        try
        {
            await client.SendAsync(DockerErrorResponse.Format(status, message, close: true)).ConfigureAwait(false);
        }
        catch (SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        foreach (var connection in _connections.Keys)
        {
            connection.Dispose();
        }
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }
}
