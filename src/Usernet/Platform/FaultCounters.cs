using System.Text.Json;

namespace Usernet.Platform;

/// <summary>
/// Exceptions the loop caught, counted by handler (where: "frame Dhcpv6Server", "poll
/// HostTcpSocket", "timer TcpConnection") and by exception type. A fault costs what was being
/// handled (one frame, one socket event, one timer run) and nothing else: no link or listener
/// is closed for it. The keys are bounded, so a guest that finds many ways to make the code
/// throw cannot grow the table; past <see cref="MaxKeys"/> new keys count only in
/// <see cref="Others"/>. Each fault is logged with its stack trace, a few a minute per handler.
/// Used on the loop thread only.
/// </summary>
internal sealed class FaultCounters
{
    public const int MaxKeys = 32;

    private readonly Dictionary<(string Handler, string Exception), long> _counts = new();

    /// <summary>Every fault, keyed or not.</summary>
    public long Total { get; private set; }

    /// <summary>Faults whose key came after the table was full.</summary>
    public long Others { get; private set; }

    public int KeyCount => _counts.Count;

    public void Record(string handler, Exception exception)
    {
        Total++;
        var key = (handler, exception.GetType().Name);
        if (_counts.TryGetValue(key, out long count))
        {
            _counts[key] = count + 1;
        }
        else if (_counts.Count < MaxKeys)
        {
            _counts[key] = 1;
        }
        else
        {
            Others++;
            handler = "other";
        }
        Log.ErrorLimited("fault " + handler, $"{handler} failed; what it was handling is dropped: {exception}");
    }

    /// <summary>How many faults <paramref name="handler"/> had with <paramref name="exceptionType"/> (its short name).</summary>
    public long Count(string handler, string exceptionType) => _counts.GetValueOrDefault((handler, exceptionType));

    /// <summary>One object per handler, with a count per exception type, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        foreach (var byHandler in _counts.GroupBy(e => e.Key.Handler).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject(byHandler.Key);
            foreach (var entry in byHandler.OrderBy(e => e.Key.Exception, StringComparer.Ordinal))
            {
                writer.WriteNumber(entry.Key.Exception, entry.Value);
            }
            writer.WriteEndObject();
        }
        if (Others > 0)
        {
            writer.WriteNumber("others", Others);
        }
    }
}
