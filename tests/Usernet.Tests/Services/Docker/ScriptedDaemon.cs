using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Usernet.Http;

namespace Usernet.Tests.Services.Docker;

/// <summary>
/// The Docker daemon's side of a unix socket, played by a test: either each connection is handed
/// to the test as it comes (<see cref="NextConnectionAsync"/>), or every request is answered by
/// <see cref="Answer"/> (keep-alive, in order), as the daemon's API answers one at a time.
/// </summary>
internal sealed class ScriptedDaemon : IDisposable
{
    private readonly Socket _listener;
    private readonly Channel<Socket> _connections = Channel.CreateUnbounded<Socket>();
    private readonly List<Socket> _accepted = new();

    public ScriptedDaemon(string path, Func<string, string, (int Status, string Body)>? answer = null)
    {
        Path = path;
        Answer = answer;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        _ = Task.Run(AcceptLoop);
    }

    public string Path { get; }

    /// <summary>(method, target) to (status, JSON body); null: the test takes each connection itself.</summary>
    public Func<string, string, (int Status, string Body)>? Answer { get; set; }

    /// <summary>Every request answered, as "METHOD TARGET", in order.</summary>
    public List<string> Requests { get; } = new();

    public async Task<Socket> NextConnectionAsync() => await _connections.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private async Task AcceptLoop()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_accepted)
            {
                _accepted.Add(connection);
            }
            if (Answer is null)
            {
                _connections.Writer.TryWrite(connection);
            }
            else
            {
                _ = Task.Run(() => Serve(connection));
            }
        }
    }

    private async Task Serve(Socket connection)
    {
        using var stream = new NetworkStream(connection, ownsSocket: false);
        var reader = new HttpReader(stream);
        try
        {
            while (await reader.ReadHeadAsync(CancellationToken.None) is { } bytes)
            {
                var head = HttpHeadParser.ParseRequest(bytes);
                await reader.CopyAsync(HttpHeadParser.ContentLength(head.Headers) ?? 0, Stream.Null, CancellationToken.None);
                lock (Requests)
                {
                    Requests.Add($"{head.Method} {head.Target}");
                }
                var (status, body) = Answer!(head.Method, head.Target);
                string response = status == 204
                    ? "HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n"
                    : $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or HttpFormatException)
        {
        }
        finally
        {
            connection.Dispose();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (var connection in _accepted)
            {
                connection.Dispose();
            }
        }
        File.Delete(Path);
    }
}
