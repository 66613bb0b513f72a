using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A test host one router hop behind the host: host --veth-- router --veth-- far host, all in
/// namespaces the test creates, with addresses from 198.18.0.0/15. For traceroute.
/// </summary>
internal sealed class RoutedTestHost : IDisposable
{
    private static int s_next;
    private readonly NetworkNamespace _router;
    private readonly NetworkNamespace _far;
    private readonly string _hostSide;
    private readonly string _farNetwork;

    private RoutedTestHost(NetworkNamespace router, NetworkNamespace far, string hostSide, string routerAddress, string farAddress, string farNetwork)
    {
        _router = router;
        _far = far;
        _hostSide = hostSide;
        RouterAddress = routerAddress;
        FarAddress = farAddress;
        _farNetwork = farNetwork;
    }

    /// <summary>The router's address on the host's side: the hop traceroute must show.</summary>
    public string RouterAddress { get; }

    public string FarAddress { get; }

    public static RoutedTestHost Create()
    {
        // Two /30s of their own in 198.19.0.0/16 (the upper half of 198.18.0.0/15).
        int block = (Environment.ProcessId * 16 + Interlocked.Increment(ref s_next)) % 8192;
        var near = new Ipv4Address(0xC613_0000u + (uint)(block * 8));
        var far = near.Offset(4);
        string hostSide = TestEnvironment.UniqueName("urh");
        string routerNear = TestEnvironment.UniqueName("urn");
        string routerFar = TestEnvironment.UniqueName("urf");
        string farSide = TestEnvironment.UniqueName("ufs");
        var router = NetworkNamespace.Create("utr");
        NetworkNamespace farNamespace;
        try
        {
            farNamespace = NetworkNamespace.Create("utf");
        }
        catch
        {
            router.Dispose();
            throw;
        }
        string r = router.Name, f = farNamespace.Name;
        var host = new RoutedTestHost(router, farNamespace, hostSide, near.Offset(2).ToString(), far.Offset(2).ToString(), $"{far}/30");
        try
        {
            NetworkNamespace.Ip("link", "add", hostSide, "type", "veth", "peer", "name", routerNear);
            NetworkNamespace.Ip("link", "set", routerNear, "netns", r);
            NetworkNamespace.Ip("link", "add", routerFar, "type", "veth", "peer", "name", farSide);
            NetworkNamespace.Ip("link", "set", routerFar, "netns", r);
            NetworkNamespace.Ip("link", "set", farSide, "netns", f);
            NetworkNamespace.Ip("addr", "add", $"{near.Offset(1)}/30", "dev", hostSide);
            NetworkNamespace.Ip("link", "set", hostSide, "up");
            NetworkNamespace.Ip("route", "add", host._farNetwork, "via", near.Offset(2).ToString());
            NetworkNamespace.Ip("-n", r, "addr", "add", $"{near.Offset(2)}/30", "dev", routerNear);
            NetworkNamespace.Ip("-n", r, "addr", "add", $"{far.Offset(1)}/30", "dev", routerFar);
            NetworkNamespace.Ip("-n", r, "link", "set", routerNear, "up");
            NetworkNamespace.Ip("-n", r, "link", "set", routerFar, "up");
            router.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
            NetworkNamespace.Ip("-n", f, "addr", "add", $"{far.Offset(2)}/30", "dev", farSide);
            NetworkNamespace.Ip("-n", f, "link", "set", farSide, "up");
            NetworkNamespace.Ip("-n", f, "link", "set", "lo", "up");
            NetworkNamespace.Ip("-n", f, "route", "add", "default", "via", far.Offset(1).ToString());
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ProcessRunner.Run("ip", "route", "del", _farNetwork);
        _router.Dispose();
        _far.Dispose();
        ProcessRunner.Run("ip", "link", "del", _hostSide);
    }
}
