using System.Net.Sockets;
using Usernet.Platform;

namespace Usernet.Services.Forwarding;

/// <summary>
/// Publishes every port the guest listens on, as pasta's <c>-t auto</c> does: once a second it
/// reads the guest namespace's sockets (/proc/PID/net/{tcp,udp}{,6}, by <see cref="ProcNetTable"/>), publishes each new
/// listener on the same host port, and removes the publish when the guest stops listening.
/// Listeners on the guest's loopback are left out (nothing outside could reach them), and so
/// are UDP ports in the ephemeral range, which belong to clients rather than servers.
/// </summary>
internal sealed class AutoPublisher
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);
    private const int EphemeralStart = 32768;

    private readonly PortPublisher _publisher;
    private readonly int _guestPid;
    private readonly LoopTimer _timer;
    private readonly Dictionary<(int Port, PublishProtocol Protocol), PublishSpec> _published = new();
    private readonly Dictionary<(int Port, PublishProtocol Protocol), Instant> _failed = new();

    public AutoPublisher(EventLoop loop, PortPublisher publisher, int guestPid)
    {
        _publisher = publisher;
        _guestPid = guestPid;
        _timer = loop.CreateTimer(Scan);
        _timer.Schedule(loop.Now);
    }

    private void Scan(Instant now)
    {
        string tables = $"/proc/{_guestPid}/net";
        var listening = Listeners(ProcNetTable.Read(tables, ProtocolType.Tcp).Concat(ProcNetTable.Read(tables, ProtocolType.Udp)));
        foreach (var key in listening)
        {
            if (_published.ContainsKey(key) || (_failed.TryGetValue(key, out var failedAt) && now < failedAt + RetryAfter))
            {
                continue;
            }
            var spec = new PublishSpec(null, key.Item1, key.Item1, key.Item1, key.Item1, key.Item2);
            try
            {
                _publisher.Add(spec);
                _published[key] = spec;
                _failed.Remove(key);
                Log.Info($"published {spec} automatically");
            }
            catch (PublishException e)
            {
                _failed[key] = now;
                Log.Warn($"cannot publish the guest's port automatically: {e.Message}");
            }
        }
        foreach (var (key, spec) in _published.Where(e => !listening.Contains(e.Key)).ToList())
        {
            _publisher.Remove(spec);
            _published.Remove(key);
            Log.Info($"unpublished {spec}: the guest no longer listens");
        }
        _timer.Schedule(now + Interval);
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

    public void Stop() => _timer.Cancel();
}
