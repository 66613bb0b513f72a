using Usernet.Platform;

namespace Usernet.Tests.Platform;

public sealed class CapabilitySetTests
{
    [Theory]
    [InlineData("NET_BIND_SERVICE", 10)]
    [InlineData("cap_net_raw", 13)]
    [InlineData("CAP_SYS_ADMIN", 21)]
    [InlineData("DAC_READ_SEARCH", 2)]
    [InlineData("SYS_TTY_CONFIG", 26)]
    [InlineData("CHECKPOINT_RESTORE", 40)]
    public void NamesAreTheKernels(string name, int number)
    {
        var expected = (Capability)number;
        Assert.True(CapabilitySet.TryParseName(name, out var capability));
        Assert.Equal(expected, capability);
        Assert.Equal(name.ToUpperInvariant().Replace("CAP_", ""), CapabilitySet.NameOf((int)expected));
    }

    [Theory]
    [InlineData("NET_BIND")]
    [InlineData("")]
    [InlineData("10")]
    public void UnknownNamesAreRefused(string name) => Assert.False(CapabilitySet.TryParseName(name, out _));

    [Fact]
    public void TheMaskIsWhatProcStatusPrints()
    {
        var set = CapabilitySet.Of(Capability.NetBindService);
        Assert.Equal("0000000000000400", set.Hex);
        Assert.Equal("NET_BIND_SERVICE", set.ToString());
        Assert.Equal("none", CapabilitySet.Empty.ToString());
        var both = set.Union(CapabilitySet.Of(Capability.NetRaw));
        Assert.Equal([10, 13], both.Numbers());
        Assert.Equal(CapabilitySet.Of(Capability.NetRaw), both.Except(set));
        Assert.True(CapabilitySet.All.Contains(Capability.SysAdmin));
    }

    [Fact]
    public void ThreadCredentialsAreReadFromProcStatus()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "Name:\tusernet\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\n"
                + "CapBnd:\t0000000000000400\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
            var credentials = ThreadCredentials.Parse(path)!;
            var expected = new ThreadCredentials(CapabilitySet.Of(Capability.NetBindService), CapabilitySet.Of(Capability.NetBindService),
                CapabilitySet.Empty, CapabilitySet.Empty, CapabilitySet.Of(Capability.NetBindService), NoNewPrivileges: true);
            Assert.True(expected.IsMetBy(credentials));
            Assert.False((expected with { NoNewPrivileges = false }).IsMetBy(credentials));
            Assert.True((expected with { Bounding = null }).IsMetBy(credentials with { Bounding = CapabilitySet.All }));
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Null(ThreadCredentials.Parse("/proc/self/task/0/status"));
    }
}
