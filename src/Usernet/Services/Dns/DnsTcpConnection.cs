using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Usernet.Services.Dns;

/// <summary>
/// The sending half of one guest's DNS-over-TCP connection. Responses, made on the loop thread,
/// are queued with their length prefix and written in turn by a task of their own, so the loop
/// never waits on the socket. Each query holds one of a few slots until its response is
/// written: a guest that pipelines (RFC 7766 §6.2.1.1) without reading stalls its own
/// connection, not the server.
/// </summary>
internal sealed class DnsTcpConnection : IDnsStream
{
    /// <summary>Queries of one connection in flight at once.</summary>
    public const int MaxPending = 32;

    private readonly Socket _socket;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public DnsTcpConnection(Socket socket)
    {
        _socket = socket;
        _writer = Task.Run(WriteLoop);
    }

    public SemaphoreSlim Slots { get; } = new(MaxPending, MaxPending);

    public void Send(ReadOnlySpan<byte> response)
    {
        byte[] framed = new byte[2 + response.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)response.Length);
        response.CopyTo(framed.AsSpan(2));
        if (!_outgoing.Writer.TryWrite(framed))
        {
            Slots.Release();
        }
    }

    /// <summary>A query that gets no response gives its slot back.</summary>
    public void Release() => Slots.Release();

    private async Task WriteLoop()
    {
        await foreach (byte[] framed in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await _socket.SendAsync(framed, SocketFlags.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The guest went away; what is still queued is dropped with it.
            }
            Slots.Release();
        }
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) for the responses still owed, writes them, and closes.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            for (int i = 0; i < MaxPending; i++)
            {
                await Slots.WaitAsync(cancel.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        _outgoing.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _socket.Dispose();
    }
}
