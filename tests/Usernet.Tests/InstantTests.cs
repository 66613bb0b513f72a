namespace Usernet.Tests;

public sealed class InstantTests
{
    [Fact]
    public void AddingToNeverStaysNever()
    {
        Assert.Equal(Instant.Never, Instant.Never + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void DifferenceIsATimeSpan()
    {
        var a = Instant.FromMilliseconds(1500);
        var b = Instant.FromMilliseconds(250);
        Assert.Equal(TimeSpan.FromMilliseconds(1250), a - b);
    }
}
