namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>Tests that change /dev/net/tun's mode run one at a time and put it back.</summary>
[CollectionDefinition(nameof(TunDeviceMode), DisableParallelization = true)]
public sealed class TunDeviceMode : IDisposable
{
    private readonly UnixFileMode _original = File.GetUnixFileMode("/dev/net/tun");

    public static TunDeviceMode DistributionDefault() => Set(
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite);

    public static TunDeviceMode Set(UnixFileMode mode)
    {
        var change = new TunDeviceMode();
        File.SetUnixFileMode("/dev/net/tun", mode);
        return change;
    }

    public void Dispose() => File.SetUnixFileMode("/dev/net/tun", _original);
}
