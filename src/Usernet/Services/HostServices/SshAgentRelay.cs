using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Usernet.Services.HostServices;

/// <summary>
/// The host's SSH agent, offered to guests as Docker Desktop does: every connection to the
/// guest's <c>/run/host-services/ssh-auth.sock</c> (a unix socket in a host directory that the
/// guest sees there), or to an opt-in TCP port of the gateway, is relayed to a new connection to
/// the host's <c>$SSH_AUTH_SOCK</c>, byte for byte. The agent protocol needs nothing more: each
/// connection is a sequence of requests and answers. Without an agent every request is refused
/// in the protocol's words (ssh-add says the agent failed; ssh goes on without its keys), and
/// Usernet warns once.
/// It runs on the thread pool, off the data path, like the control API.
/// </summary>
internal sealed class SshAgentRelay : IAsyncDisposable
{
    /// <summary>The socket's name in /run/host-services, as Docker Desktop names it.</summary>
    public const string SocketName = "ssh-auth.sock";

    /// <summary>Where the guest finds it.</summary>
    public const string GuestPath = "/run/host-services/" + SocketName;

    /// <summary>Connections relayed at once: an agent's clients are few and short-lived.</summary>
    public const int MaxConnections = 64;

    /// <summary>The longest message a client may send where there is no agent: OpenSSH's agent allows 256 KiB (AGENT_MAX_LEN).</summary>
    public const int MaxMessage = 256 * 1024;

    /// <summary>SSH_AGENT_FAILURE, length-prefixed: the generic refusal (draft-miller-ssh-agent, section 3).</summary>
    private static readonly byte[] Failure = [0, 0, 0, 1, 5];

    private readonly string? _agent;
    private readonly CancellationTokenSource _stop = new();
    /// <summary>Each guest connection, with its connection to the agent (null while connecting, or without an agent).</summary>
    private readonly ConcurrentDictionary<Socket, Socket?> _open = new();
    private Socket? _listener;
    private string? _path;
    private Task? _acceptLoop;
    private int _warned;

    /// <param name="agent">The host agent's socket: the value of $SSH_AUTH_SOCK, or null without one.</param>
    public SshAgentRelay(string? agent)
    {
        _agent = string.IsNullOrEmpty(agent) ? null : agent;
    }

    /// <summary>A relay to the agent of this process's environment.</summary>
    public static SshAgentRelay ForHostAgent() => new(Environment.GetEnvironmentVariable("SSH_AUTH_SOCK"));

    /// <summary>The connections being relayed now.</summary>
    public int OpenConnections => _open.Count;

    /// <summary>
    /// Listens at <paramref name="directory"/>/ssh-auth.sock. The socket is 0666: every user of
    /// the guest may use the agent, as under Docker Desktop. The host's other users cannot reach
    /// it, since the directory that holds it lies in the owner's 0700 runtime directory.
    /// </summary>
    public void ListenIn(string directory)
    {
        string path = Path.Combine(directory, SocketName);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
                | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        _path = path;
        _acceptLoop = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (true)
        {
            Socket guest;
            try
            {
                guest = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Accept(guest);
        }
    }

    /// <summary>Relays one guest connection (from the socket, or a gateway TCP service); owns <paramref name="guest"/>.</summary>
    public void Accept(Socket guest) => _ = Task.Run(() => RelayAsync(guest));

    private async Task RelayAsync(Socket guest)
    {
        if (_open.Count >= MaxConnections)
        {
            Log.WarnLimited("ssh-agent-relay", $"the SSH agent relay carries {MaxConnections} connections at most: one more is closed");
            guest.Dispose();
            return;
        }
        _open[guest] = null;
        Socket? agent = null;
        try
        {
            agent = await ConnectToAgentAsync().ConfigureAwait(false);
            if (agent is null)
            {
                await AnswerFailuresAsync(guest).ConfigureAwait(false);
                return;
            }
            _open[guest] = agent;
            var toAgent = CopyAsync(guest, agent);
            var toGuest = CopyAsync(agent, guest);
            if (await Task.WhenAny(toAgent, toGuest).ConfigureAwait(false) is { IsFaulted: true })
            {
                // A reset on one side: the other must not wait for bytes that will never come.
                guest.Dispose();
                agent.Dispose();
            }
            await Task.WhenAll(toAgent, toGuest).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _open.TryRemove(guest, out _);
            guest.Dispose();
            agent?.Dispose();
        }
    }

    /// <summary>
    /// Where there is no agent: each request (a uint32 length, then the message) is read and
    /// answered with SSH_AGENT_FAILURE, until the client's end. A client that were simply closed
    /// on would die of SIGPIPE writing its request. A length the protocol does not allow ends
    /// the connection.
    /// </summary>
    private async Task AnswerFailuresAsync(Socket guest)
    {
        using var stream = new NetworkStream(guest, ownsSocket: false);
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), _stop.Token).ConfigureAwait(false);
                uint length = BinaryPrimitives.ReadUInt32BigEndian(buffer);
                if (length is 0 or > MaxMessage)
                {
                    return;
                }
                while (length > 0)
                {
                    int part = (int)Math.Min(length, (uint)buffer.Length);
                    await stream.ReadExactlyAsync(buffer.AsMemory(0, part), _stop.Token).ConfigureAwait(false);
                    length -= (uint)part;
                }
                await stream.WriteAsync(Failure, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (EndOfStreamException)
        {
        }
    }

    /// <summary>A new connection to the host's agent; null, warning once, when there is none.</summary>
    private async Task<Socket?> ConnectToAgentAsync()
    {
        if (_agent is null)
        {
            WarnOnce("a guest asked for the SSH agent, but SSH_AUTH_SOCK was not set when usernet started: start an agent " +
                "(eval $(ssh-agent); ssh-add) and start usernet from that shell");
            return null;
        }
        var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await agent.ConnectAsync(new UnixDomainSocketEndPoint(_agent), _stop.Token).ConfigureAwait(false);
            return agent;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            agent.Dispose();
            WarnOnce($"a guest asked for the SSH agent, but the host's agent at {_agent} does not answer ({e.Message})");
            return null;
        }
    }

    private void WarnOnce(string message)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            Log.Warn(message);
        }
    }

    /// <summary>Copies until the source's end, then passes the end on as a half-close.</summary>
    private async Task CopyAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false)) > 0)
        {
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token).ConfigureAwait(false);
        }
        to.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Stops listening, removes the socket file and ends the connections it relays.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        foreach (var (guest, agent) in _open)
        {
            guest.Dispose();
            agent?.Dispose();
        }
        if (_path is not null)
        {
            try
            {
                File.Delete(_path);
            }
            catch (IOException e)
            {
                Log.Warn($"could not remove {_path}: {e.Message}");
            }
        }
    }
}
