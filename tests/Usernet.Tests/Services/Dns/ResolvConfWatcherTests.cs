using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class ResolvConfWatcherTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"usernet-resolv-{Guid.NewGuid():N}.conf");

    [Fact]
    public void AChangeIsSeenOnceAndAMissingFileHasNoNameservers()
    {
        File.WriteAllText(_path, "nameserver 127.0.0.1\n");
        var watcher = new ResolvConfWatcher(_path);
        Assert.True(watcher.Poll(out var first));
        Assert.Equal([IpAddress.Parse("127.0.0.1")], first.Nameservers);
        Assert.False(watcher.Poll(out _));
        File.WriteAllText(_path, "nameserver 127.0.0.2\nsearch corp.example\n");
        Assert.True(watcher.Poll(out var second));
        Assert.Equal([IpAddress.Parse("127.0.0.2")], second.Nameservers);
        File.Delete(_path);
        Assert.True(watcher.Poll(out var gone));
        Assert.Empty(gone.Nameservers);
    }

    public void Dispose() => File.Delete(_path);
}
