using System.Text.Json;
using Usernet.Control;
using Usernet.Platform;

namespace Usernet.Tests.Platform;

public sealed class FaultCountersTests
{
    [Fact]
    public void FaultsAreCountedByHandlerAndExceptionType()
    {
        var faults = new FaultCounters();
        faults.Record("frame Dhcpv6Server", new IndexOutOfRangeException());
        faults.Record("frame Dhcpv6Server", new IndexOutOfRangeException());
        faults.Record("frame Dhcpv6Server", new ArgumentException());
        faults.Record("timer TcpConnection", new InvalidOperationException());

        Assert.Equal(4, faults.Total);
        Assert.Equal(2, faults.Count("frame Dhcpv6Server", nameof(IndexOutOfRangeException)));
        var json = JsonDocument.Parse(JsonText.Build(faults.WriteJson)).RootElement;
        Assert.Equal(2, json.GetProperty("frame Dhcpv6Server").GetProperty("IndexOutOfRangeException").GetInt64());
        Assert.Equal(1, json.GetProperty("frame Dhcpv6Server").GetProperty("ArgumentException").GetInt64());
        Assert.Equal(1, json.GetProperty("timer TcpConnection").GetProperty("InvalidOperationException").GetInt64());
    }

    [Fact]
    public void TheKeysAreBounded()
    {
        var faults = new FaultCounters();
        for (int i = 0; i < 1000; i++)
        {
            faults.Record($"handler {i}", new InvalidOperationException());
        }
        Assert.Equal(FaultCounters.MaxKeys, faults.KeyCount);
        Assert.Equal(1000, faults.Total);
        Assert.Equal(1000 - FaultCounters.MaxKeys, faults.Others);
        // A key already there still counts.
        faults.Record("handler 0", new InvalidOperationException());
        Assert.Equal(2, faults.Count("handler 0", nameof(InvalidOperationException)));
        var json = JsonDocument.Parse(JsonText.Build(faults.WriteJson)).RootElement;
        Assert.Equal(1000 - FaultCounters.MaxKeys, json.GetProperty("others").GetInt64());
    }
}
