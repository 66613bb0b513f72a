using System.Buffers.Binary;
using System.Net.Sockets;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// DNS over TCP on the gateway's port 53 (RFC 7766): each guest connection carries any number
/// of queries, each with a two-byte length prefix (RFC 1035 §4.2.2), pipelined, answered in the
/// order their answers are ready. Reading runs on the thread pool; each query is resolved on
/// the loop thread like a UDP one, with no size limit but the prefix's.
/// </summary>
internal sealed class DnsTcpServer
{
    /// <summary>Guest connections at once; more are closed at once.</summary>
    public const int MaxConnections = 256;

    /// <summary>An idle connection is closed after this (RFC 7766 §6.2.3 asks for a limit of seconds).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private readonly Action<Action<Instant>> _post;
    private readonly DnsResolver _resolver;
    private readonly IpEndpoint _server;
    private readonly TimeSpan _lookupTimeout;
    private readonly byte[] _response = new byte[DnsResponseWriter.TcpLimit];
    private int _connections;

    public DnsTcpServer(Action<Action<Instant>> post, DnsResolver resolver, IpEndpoint server, TimeSpan lookupTimeout)
    {
        _post = post;
        _resolver = resolver;
        _server = server;
        _lookupTimeout = lookupTimeout;
    }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Serves one guest connection; called on the thread pool, and owns the socket.</summary>
    public void Accept(Socket socket, IpEndpoint guest)
    {
        if (Interlocked.Increment(ref _connections) > MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            socket.Dispose();
            return;
        }
        _ = ServeAsync(socket, guest);
    }

    private async Task ServeAsync(Socket socket, IpEndpoint guest)
    {
        var connection = new DnsTcpConnection(socket);
        var replyTo = new DnsReplyTo(guest, _server, connection);
        _post(_ => _resolver.Counters.TcpConnections++);
        byte[] prefix = new byte[2];
        try
        {
            while (true)
            {
                using var idle = new CancellationTokenSource(IdleTimeout);
                if (!await DnsForwarder.ReceiveExactlyAsync(socket, prefix, idle.Token).ConfigureAwait(false))
                {
                    break;
                }
                int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
                byte[] message = new byte[length];
                if (!await DnsForwarder.ReceiveExactlyAsync(socket, message, idle.Token).ConfigureAwait(false))
                {
                    break;
                }
                await connection.Slots.WaitAsync(idle.Token).ConfigureAwait(false);
                _post(now => Resolve(message, replyTo, connection, now));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            await connection.CloseAsync(_lookupTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            Interlocked.Decrement(ref _connections);
        }
    }

    private void Resolve(byte[] message, DnsReplyTo replyTo, DnsTcpConnection connection, Instant now)
    {
        _resolver.Counters.TcpQueries++;
        int length = _resolver.Resolve(message, replyTo, _response, now);
        if (length > 0)
        {
            connection.Send(_response.AsSpan(0, length));
        }
        else if (length == DnsResolver.Dropped)
        {
            connection.Release();
        }
    }
}
