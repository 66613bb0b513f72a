using Usernet.Platform;

namespace Usernet.Tests.Platform;

public sealed class DurationHistogramTests
{
    [Fact]
    public void EachObservationCountsInTheFirstBucketItFitsAndTheBucketsAddUp()
    {
        var histogram = new DurationHistogram([0.01, 0.1, 1]);
        histogram.Observe(TimeSpan.Zero);
        histogram.Observe(TimeSpan.FromMilliseconds(10));
        histogram.Observe(TimeSpan.FromMilliseconds(50));
        histogram.Observe(TimeSpan.FromSeconds(3));
        Assert.Equal([2L, 3L, 3L], histogram.CumulativeCounts());
        Assert.Equal(4, histogram.Count);
        Assert.Equal(3.06, histogram.SumSeconds, 6);
    }

    [Fact]
    public void BoundsMustRise() => Assert.Throws<ArgumentException>(() => new DurationHistogram([0.1, 0.1]));
}
