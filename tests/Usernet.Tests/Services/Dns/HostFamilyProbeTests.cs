using Usernet.Services.Dns;

namespace Usernet.Tests.Services.Dns;

public sealed class HostFamilyProbeTests
{
    private const string Header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    [Fact]
    public void AnIpv4DefaultRouteIsFoundInProcNetRoute()
    {
        Assert.True(HostFamilyProbe.HasDefaultRouteV4(Header + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"));
        Assert.False(HostFamilyProbe.HasDefaultRouteV4(Header + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"));
        // A reject route is no path.
        Assert.False(HostFamilyProbe.HasDefaultRouteV4(Header + "eth0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n"));
        Assert.False(HostFamilyProbe.HasDefaultRouteV4(""));
    }

    [Fact]
    public void AnIpv6DefaultRouteIsFoundInProcNetIpv6Route()
    {
        string zeros = new('0', 32);
        Assert.True(HostFamilyProbe.HasDefaultRouteV6($"{zeros} 00 {zeros} 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n"));
        // The kernel's unreachable default on lo.
        Assert.False(HostFamilyProbe.HasDefaultRouteV6($"{zeros} 00 {zeros} 00 {zeros} ffffffff 00000001 00000000 00200200       lo\n"));
        Assert.False(HostFamilyProbe.HasDefaultRouteV6($"fd000000000000000000000000000000 40 {zeros} 00 {zeros} 00000100 00000001 00000000 00000001     eth0\n"));
    }
}
