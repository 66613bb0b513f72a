using System.Net.Sockets;
using Usernet.Platform;

namespace Usernet.Services.Forwarding;

/// <summary>
/// Publishes every port the guest listens on, as pasta's <c>-t auto</c> does: once a second it
/// reads the guest namespace's sockets (/proc/PID/net/{tcp,udp}{,6}, by <see cref="ProcNetTable"/>), publishes each new
/// listener on the same host port, and removes the publish when the guest stops listening.
/// Listeners on the guest's loopback are left out (nothing outside could reach them), and so
/// are UDP ports in the ephemeral range, which belong to clients rather than servers. The guest
/// chooses these ports, not the user: so they are published on the host's loopback (unless
/// portBindingBehavior is set to default-port-binding), and no more than <see cref="MaxPorts"/>
/// of them, each a host socket or two; past that, listeners wait unpublished (counted, and
/// logged once) until others go. Given a function that names owners (<c>usernet docker</c>'s
/// host-network containers), only the sockets it names are published, each for its owner.
/// </summary>
internal sealed class AutoPublisher
{
    /// <summary>Ports published automatically at once, at most.</summary>
    public const int MaxPorts = 256;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);
    private const int EphemeralStart = 32768;

    private readonly PortPublisher _publisher;
    private readonly int _guestPid;
    private readonly Func<Dictionary<ulong, string>>? _owners;
    private readonly LoopTimer _timer;
    private readonly Dictionary<(int Port, PublishProtocol Protocol), PublishSpec> _published = new();
    private readonly Dictionary<(int Port, PublishProtocol Protocol), Instant> _failed = new();
    private bool _limitLogged;

    /// <param name="owners">
    /// When given, called at each look: the inodes (<see cref="ProcNetSocket.Inode"/>) of the
    /// listening sockets to publish, each with its owner's name for <c>usernet port ls</c>;
    /// the others are left alone. Without it, every listener is published, for no one.
    /// </param>
    public AutoPublisher(EventLoop loop, PortPublisher publisher, int guestPid, Func<Dictionary<ulong, string>>? owners = null)
    {
        _publisher = publisher;
        _guestPid = guestPid;
        _owners = owners;
        _timer = loop.CreateTimer(Scan);
        _timer.Schedule(loop.Now);
    }

    private void Scan(Instant now)
    {
        string tables = $"/proc/{_guestPid}/net";
        var owners = _owners?.Invoke();
        // /proc/PID/net/tcp walks the kernel's whole established hash, every namespace's (tens
        // of ms on a big host, 7 % of a busy Usernet's CPU at once a second): not read when no
        // socket could be published.
        var sockets = owners is { Count: 0 }
            ? []
            : ProcNetTable.Read(tables, ProtocolType.Tcp).Concat(ProcNetTable.Read(tables, ProtocolType.Udp)).ToList();
        if (owners is not null)
        {
            sockets.RemoveAll(s => !owners.ContainsKey(s.Inode));
        }
        var listening = Listeners(sockets);
        foreach (var (key, spec) in _published.Where(e => !listening.Contains(e.Key)).ToList())
        {
            _publisher.Remove(spec);
            _published.Remove(key);
            Log.Info($"unpublished {spec}: the guest no longer listens");
        }
        int overLimit = 0;
        foreach (var key in listening.Order())
        {
            if (_published.ContainsKey(key) || (_failed.TryGetValue(key, out var failedAt) && now < failedAt + RetryAfter))
            {
                continue;
            }
            if (_published.Count >= MaxPorts)
            {
                overLimit++;
                continue;
            }
            var spec = new PublishSpec(null, key.Item1, key.Item1, key.Item1, key.Item1, key.Item2);
            try
            {
                string? owner = owners is null ? null : OwnerOf(key, sockets, owners);
                _publisher.Add(spec, owner, automatic: true);
                _published[key] = spec;
                _failed.Remove(key);
                Log.Info(owner is null ? $"published {spec} automatically" : $"published {spec} automatically, for {owner}");
            }
            catch (PublishException e)
            {
                _failed[key] = now;
                Log.Warn($"cannot publish the guest's port automatically: {e.Message}");
            }
        }
        OverLimit = overLimit;
        if (overLimit > 0 && !_limitLogged)
        {
            _limitLogged = true;
            Log.Warn($"the guest listens on more ports than -p auto publishes ({MaxPorts}): {overLimit} left unpublished (usernet stats: ports.auto.overLimit)");
        }
        _timer.Schedule(now + Interval);
    }

    /// <summary>Ports published automatically now.</summary>
    public int Published => _published.Count;

    /// <summary>Listeners left unpublished at the last look because <see cref="MaxPorts"/> were published.</summary>
    public int OverLimit { get; private set; }

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteNumber("published", Published);
        writer.WriteNumber("overLimit", OverLimit);
        writer.WriteNumber("maxPorts", MaxPorts);
    }

    /// <summary>
    /// The ports to publish: listening sockets (<see cref="ProcNetSocket.IsListening"/>) not on
    /// the guest's loopback, and for UDP not in the ephemeral range.
    /// </summary>
    public static HashSet<(int, PublishProtocol)> Listeners(IEnumerable<ProcNetSocket> sockets)
    {
        var listening = new HashSet<(int, PublishProtocol)>();
        foreach (var socket in sockets)
        {
            var protocol = socket.Protocol == ProtocolType.Tcp ? PublishProtocol.Tcp : PublishProtocol.Udp;
            int port = socket.Local.Port;
            if (socket.IsListening && port != 0 && !socket.Local.Address.IsLoopback
                && !(protocol == PublishProtocol.Udp && port >= EphemeralStart))
            {
                listening.Add((port, protocol));
            }
        }
        return listening;
    }

    private static string? OwnerOf((int Port, PublishProtocol Protocol) key, List<ProcNetSocket> sockets, Dictionary<ulong, string> owners)
    {
        foreach (var socket in sockets)
        {
            if (socket.Local.Port == key.Port && (socket.Protocol == ProtocolType.Tcp) == (key.Protocol == PublishProtocol.Tcp))
            {
                return owners[socket.Inode];
            }
        }
        return null;
    }

    public void Stop() => _timer.Cancel();
}
