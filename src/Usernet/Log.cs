namespace Usernet;

internal enum LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>
/// Messages to stderr, prefixed with the program name. The guest controls much of what could be
/// logged, so warnings it can trigger go through <see cref="WarnLimited"/>, which lets through
/// a few a minute per key and counts the rest.
/// </summary>
internal static class Log
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, (long windowStart, int count, long suppressed)> Limits = new();

    public static LogLevel Level { get; set; } = LogLevel.Warning;

    public static bool IsEnabled(LogLevel level) => level >= Level;

    public static void Debug(string message) => Write(LogLevel.Debug, message);

    public static void Info(string message) => Write(LogLevel.Info, message);

    public static void Warn(string message) => Write(LogLevel.Warning, message);

    public static void Error(string message) => Write(LogLevel.Error, message);

    /// <summary>A warning that at most <paramref name="perMinute"/> times a minute per key reaches stderr.</summary>
    public static void WarnLimited(string key, string message, int perMinute = 5) => Limited(LogLevel.Warning, key, message, perMinute);

    /// <summary>An error that at most <paramref name="perMinute"/> times a minute per key reaches stderr.</summary>
    public static void ErrorLimited(string key, string message, int perMinute = 5) => Limited(LogLevel.Error, key, message, perMinute);

    private static void Limited(LogLevel level, string key, string message, int perMinute)
    {
        if (!IsEnabled(level))
        {
            return;
        }
        long nowMinute = Environment.TickCount64 / 60_000;
        long suppressed = 0;
        lock (Gate)
        {
            Limits.TryGetValue(key, out var entry);
            if (entry.windowStart != nowMinute)
            {
                suppressed = entry.suppressed;
                entry = (nowMinute, 0, 0);
            }
            if (entry.count >= perMinute)
            {
                entry.suppressed++;
                Limits[key] = entry;
                return;
            }
            entry.count++;
            Limits[key] = entry;
        }
        string note = suppressed > 0 ? $" ({suppressed} similar messages suppressed)" : "";
        Write(level, message + note);
    }

    private static void Write(LogLevel level, string message)
    {
        if (!IsEnabled(level))
        {
            return;
        }
        string prefix = level switch
        {
            LogLevel.Debug => "usernet: debug: ",
            LogLevel.Warning => "usernet: warning: ",
            LogLevel.Error => "usernet: error: ",
            _ => "usernet: ",
        };
        lock (Gate)
        {
            Console.Error.WriteLine(prefix + message);
        }
    }
}
