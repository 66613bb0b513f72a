namespace Usernet.Platform;

/// <summary>
/// How long something took, counted into fixed buckets, as Prometheus' histograms are. An
/// observation is a few comparisons and increments, with no allocation, so it can sit on a
/// path that runs per query. Used on one thread (the loop's); read on it too.
/// </summary>
internal sealed class DurationHistogram
{
    /// <summary>From half a millisecond (a cached answer) to 5 s (past the DNS timeout's default of 2 s).</summary>
    public static readonly IReadOnlyList<double> DefaultBoundsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private readonly double[] _bounds;
    private readonly long[] _counts;

    public DurationHistogram(IReadOnlyList<double>? boundsSeconds = null)
    {
        _bounds = [.. boundsSeconds ?? DefaultBoundsSeconds];
        for (int i = 1; i < _bounds.Length; i++)
        {
            if (_bounds[i] <= _bounds[i - 1])
            {
                throw new ArgumentException("the bounds must rise", nameof(boundsSeconds));
            }
        }
        _counts = new long[_bounds.Length];
    }

    public IReadOnlyList<double> BoundsSeconds => _bounds;

    public long Count { get; private set; }

    public double SumSeconds { get; private set; }

    public void Observe(TimeSpan duration)
    {
        double seconds = Math.Max(0, duration.TotalSeconds);
        Count++;
        SumSeconds += seconds;
        for (int i = 0; i < _bounds.Length; i++)
        {
            if (seconds <= _bounds[i])
            {
                _counts[i]++;
                return;
            }
        }
    }

    /// <summary>Observations at or below each bound (Prometheus' buckets are cumulative); built when read.</summary>
    public long[] CumulativeCounts()
    {
        var cumulative = new long[_counts.Length];
        long running = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            running += _counts[i];
            cumulative[i] = running;
        }
        return cumulative;
    }
}
