namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A test host one router hop behind the host: host --veth-- router --veth-- far host, all in
/// namespaces the test creates, with addresses from 198.18.0.0/15. For traceroute.
/// </summary>
internal sealed class RoutedTestHost : IDisposable
{
    private static int s_next;
    private readonly string _hostSide;
    private readonly string _farNetwork;

    private RoutedTestHost(string router, string far, string hostSide, string routerAddress, string farAddress, string farNetwork)
    {
        RouterNamespace = router;
        FarNamespace = far;
        _hostSide = hostSide;
        RouterAddress = routerAddress;
        FarAddress = farAddress;
        _farNetwork = farNetwork;
    }

    public string RouterNamespace { get; }

    public string FarNamespace { get; }

    /// <summary>The router's address on the host's side: the hop traceroute must show.</summary>
    public string RouterAddress { get; }

    public string FarAddress { get; }

    public static RoutedTestHost Create()
    {
        // Two /30s of their own in 198.19.0.0/16 (the upper half of 198.18.0.0/15).
        int block = (Environment.ProcessId * 16 + Interlocked.Increment(ref s_next)) % 8192;
        uint near = 0xC613_0000u + (uint)(block * 8);
        uint far = near + 4;
        string router = TestEnvironment.UniqueName("utr");
        string farNs = TestEnvironment.UniqueName("utf");
        string hostSide = TestEnvironment.UniqueName("urh");
        string routerNear = TestEnvironment.UniqueName("urn");
        string routerFar = TestEnvironment.UniqueName("urf");
        string farSide = TestEnvironment.UniqueName("ufs");
        var host = new RoutedTestHost(router, farNs, hostSide, Format(near + 2), Format(far + 2), $"{Format(far)}/30");
        try
        {
            Run("ip", "netns", "add", router);
            Run("ip", "netns", "add", farNs);
            Run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", routerNear);
            Run("ip", "link", "set", routerNear, "netns", router);
            Run("ip", "link", "add", routerFar, "type", "veth", "peer", "name", farSide);
            Run("ip", "link", "set", routerFar, "netns", router);
            Run("ip", "link", "set", farSide, "netns", farNs);
            Run("ip", "addr", "add", $"{Format(near + 1)}/30", "dev", hostSide);
            Run("ip", "link", "set", hostSide, "up");
            Run("ip", "route", "add", host._farNetwork, "via", Format(near + 2));
            Run("ip", "-n", router, "addr", "add", $"{Format(near + 2)}/30", "dev", routerNear);
            Run("ip", "-n", router, "addr", "add", $"{Format(far + 1)}/30", "dev", routerFar);
            Run("ip", "-n", router, "link", "set", routerNear, "up");
            Run("ip", "-n", router, "link", "set", routerFar, "up");
            Run("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1");
            Run("ip", "-n", farNs, "addr", "add", $"{Format(far + 2)}/30", "dev", farSide);
            Run("ip", "-n", farNs, "link", "set", farSide, "up");
            Run("ip", "-n", farNs, "link", "set", "lo", "up");
            Run("ip", "-n", farNs, "route", "add", "default", "via", Format(far + 1));
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static string Format(uint address) =>
        $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}";

    private static void Run(params string[] command) =>
        ProcessRunner.Check(ProcessRunner.Run(command[0], command[1..], TimeSpan.FromSeconds(10)));

    public void Dispose()
    {
        ProcessRunner.Run("ip", "route", "del", _farNetwork);
        ProcessRunner.Run("ip", "netns", "del", RouterNamespace);
        ProcessRunner.Run("ip", "netns", "del", FarNamespace);
        ProcessRunner.Run("ip", "link", "del", _hostSide);
    }
}
