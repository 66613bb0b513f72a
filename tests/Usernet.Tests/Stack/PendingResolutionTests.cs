using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class PendingResolutionTests
{
    private static IpAddress Guest(int i) => Ipv4Address.Parse($"192.168.65.{i + 3}");

    [Fact]
    public void ReleasedDestinationsMakeRoomForNewOnes()
    {
        // Rounds of many destinations each resolved in turn: none is the oldest of a full
        // table, so nothing is dropped however many rounds there are.
        var pending = new PendingResolution();
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < 64; i++)
            {
                pending.Hold(Guest(i), [(byte)round, (byte)i]);
            }
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal([(byte)round, (byte)i], Assert.Single(pending.Release(Guest(i))!));
            }
        }
        Assert.Equal(0, pending.Dropped);
        Assert.Equal(0, pending.DestinationCount);
    }

    [Fact]
    public void AFullTableGivesUpItsOldestDestination()
    {
        var pending = new PendingResolution();
        // One resolved already: it is nobody's oldest any more.
        pending.Hold(Guest(200), [9]);
        Assert.NotNull(pending.Release(Guest(200)));
        pending.Hold(Guest(0), [0]);
        pending.Hold(Guest(0), [1]);
        for (int i = 1; i <= 64; i++)
        {
            pending.Hold(Guest(i), [(byte)i]);
        }
        Assert.Null(pending.Release(Guest(0)));
        Assert.Equal(2, pending.Dropped);
        Assert.Equal(64, pending.DestinationCount);
        Assert.NotNull(pending.Release(Guest(1)));
    }

    [Fact]
    public void ADestinationKeepsItsNewestFrames()
    {
        var pending = new PendingResolution();
        for (byte b = 0; b < 5; b++)
        {
            pending.Hold(Guest(0), [b]);
        }
        Assert.Equal([[2], [3], [4]], pending.Release(Guest(0))!.ToArray());
        Assert.Equal(2, pending.Dropped);
    }
}
