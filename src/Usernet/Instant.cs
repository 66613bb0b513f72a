namespace Usernet;

/// <summary>
/// A point on the monotonic clock, in nanoseconds from an arbitrary origin. The stack never
/// reads the clock itself: the loop reads it once per wake-up and passes it in, so state
/// machines can be tested with explicit time.
/// </summary>
internal readonly record struct Instant(long Nanoseconds) : IComparable<Instant>
{
    public static readonly Instant Zero = new(0);

    /// <summary>Later than any real instant; a deadline that never comes.</summary>
    public static readonly Instant Never = new(long.MaxValue);

    public static Instant FromMilliseconds(long milliseconds) => new(milliseconds * 1_000_000);

    public long Milliseconds => Nanoseconds / 1_000_000;

    public Instant Add(TimeSpan span) =>
        this == Never ? Never : new Instant(Nanoseconds + span.Ticks * 100);

    public TimeSpan Since(Instant earlier) => TimeSpan.FromTicks((Nanoseconds - earlier.Nanoseconds) / 100);

    public static Instant operator +(Instant instant, TimeSpan span) => instant.Add(span);

    public static TimeSpan operator -(Instant later, Instant earlier) => later.Since(earlier);

    public static bool operator <(Instant a, Instant b) => a.Nanoseconds < b.Nanoseconds;

    public static bool operator >(Instant a, Instant b) => a.Nanoseconds > b.Nanoseconds;

    public static bool operator <=(Instant a, Instant b) => a.Nanoseconds <= b.Nanoseconds;

    public static bool operator >=(Instant a, Instant b) => a.Nanoseconds >= b.Nanoseconds;

    public static Instant Min(Instant a, Instant b) => a < b ? a : b;

    public static Instant Max(Instant a, Instant b) => a > b ? a : b;

    public int CompareTo(Instant other) => Nanoseconds.CompareTo(other.Nanoseconds);

    public override string ToString() => this == Never ? "never" : $"{Nanoseconds / 1e9:F6}s";
}
