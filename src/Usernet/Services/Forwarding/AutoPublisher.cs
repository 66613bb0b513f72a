using System.Globalization;
using Usernet.Platform;

namespace Usernet.Services.Forwarding;

/// <summary>
/// Publishes every port the guest listens on, as pasta's <c>-t auto</c> does: once a second it
/// reads the guest namespace's sockets (/proc/PID/net/{tcp,udp}{,6}), publishes each new
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
        var listening = new HashSet<(int, PublishProtocol)>();
        Read($"/proc/{_guestPid}/net/tcp", PublishProtocol.Tcp, listening);
        Read($"/proc/{_guestPid}/net/tcp6", PublishProtocol.Tcp, listening);
        Read($"/proc/{_guestPid}/net/udp", PublishProtocol.Udp, listening);
        Read($"/proc/{_guestPid}/net/udp6", PublishProtocol.Udp, listening);
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

    /// <summary>Listening sockets of one /proc/net table (TCP in LISTEN, UDP unconnected and bound).</summary>
    private static void Read(string path, PublishProtocol protocol, HashSet<(int, PublishProtocol)> listening)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string line in lines.Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4)
            {
                continue;
            }
            bool isListening = protocol == PublishProtocol.Tcp ? fields[3] == "0A" : fields[3] == "07" && fields[2].EndsWith(":0000", StringComparison.Ordinal);
            int colon = fields[1].LastIndexOf(':');
            if (!isListening || colon < 0 || !int.TryParse(fields[1][(colon + 1)..], NumberStyles.HexNumber, null, out int port) || port == 0)
            {
                continue;
            }
            if (IsLoopback(fields[1][..colon]) || (protocol == PublishProtocol.Udp && port >= EphemeralStart))
            {
                continue;
            }
            listening.Add((port, protocol));
        }
    }

    /// <summary>Loopback in /proc/net's notation: 127.x.x.x stored little-endian, or ::1.</summary>
    private static bool IsLoopback(string hex) =>
        hex.Length == 8 ? hex.EndsWith("7F", StringComparison.Ordinal) : hex == "00000000000000000000000001000000";

    public void Stop() => _timer.Cancel();
}
