using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// One `usernet serve` LAN with two guests, each a network namespace whose TAP device serve has
/// open: A takes the first address by DHCP (192.168.65.3), B the next (192.168.65.4), and both
/// configure IPv6 from the gateway's router advertisements. Each has a MAC of its own. Disposing
/// stops serve by PID and removes the namespaces and devices, whether the test passed or not.
/// </summary>
internal sealed class TwoGuestLan : IDisposable
{
    public static readonly MacAddress MacA = new(0x02_00_00_00_AA_01);
    public static readonly MacAddress MacB = new(0x02_00_00_00_BB_01);
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.168.65.3");
    public static readonly Ipv4Address AddressB = Ipv4Address.Parse("192.168.65.4");

    private readonly List<string> _namespaces = new();
    private readonly List<string> _taps = new();
    private ServeInstance? _serve;

    private TwoGuestLan()
    {
    }

    public string TapA { get; private set; } = "";

    public string TapB { get; private set; } = "";

    public string NetnsA { get; private set; } = "";

    public string NetnsB { get; private set; } = "";

    public ServeInstance Serve => _serve!;

    /// <summary>Starts serve with <paramref name="serveOptions"/> and both guests, A's lease first.</summary>
    public static TwoGuestLan Start(params string[] serveOptions)
    {
        var lan = new TwoGuestLan();
        try
        {
            lan.TapA = lan.AddTap("ulana");
            lan.TapB = lan.AddTap("ulanb");
            lan._serve = ServeInstance.Start(["--tap", lan.TapA, "--tap", lan.TapB, .. serveOptions]);
            lan.NetnsA = lan.Enter(lan.TapA, MacA);
            lan.NetnsB = lan.Enter(lan.TapB, MacB);
            lan.Lease(lan.NetnsA, lan.TapA, AddressA);
            lan.Lease(lan.NetnsB, lan.TapB, AddressB);
            return lan;
        }
        catch
        {
            lan.Dispose();
            throw;
        }
    }

    private string AddTap(string prefix)
    {
        string tap = TestEnvironment.UniqueName(prefix);
        ProcessRunner.Check(ProcessRunner.Run("ip", "tuntap", "add", "dev", tap, "mode", "tap"));
        _taps.Add(tap);
        return tap;
    }

    /// <summary>Moves the TAP (serve keeps its fd open) into a namespace of its own, with <paramref name="mac"/>.</summary>
    private string Enter(string tap, MacAddress mac)
    {
        string netns = TestEnvironment.UniqueName("ulan");
        ProcessRunner.Check(ProcessRunner.Run("ip", "netns", "add", netns));
        _namespaces.Add(netns);
        ProcessRunner.Check(ProcessRunner.Run("ip", "link", "set", tap, "netns", netns));
        Exec(netns, $"ip link set lo up; ip link set dev {tap} address {mac}; ip link set {tap} up");
        return netns;
    }

    /// <summary>Takes a lease by DHCP with busybox's client, and configures what it got.</summary>
    private void Lease(string netns, string tap, Ipv4Address expected)
    {
        string output = Exec(netns, $"busybox udhcpc -i {tap} -q -n -f -t 5 -s /bin/true 2>&1; " +
            $"ip addr add {expected}/24 dev {tap}; ip route add default via 192.168.65.1");
        Assert.Contains($"lease of {expected} obtained", output);
    }

    /// <summary>Runs a shell script in a guest's namespace; it must succeed.</summary>
    public string Exec(string netns, string script) =>
        ProcessRunner.Check(ProcessRunner.Run("ip", ["netns", "exec", netns, "sh", "-c", script], TimeSpan.FromSeconds(30)));

    /// <summary>Runs a shell script in a guest's namespace, whatever its outcome.</summary>
    public ProcessResult Try(string netns, string script) =>
        ProcessRunner.Run("ip", ["netns", "exec", netns, "sh", "-c", script], TimeSpan.FromSeconds(30));

    /// <summary>A raw socket on a guest's TAP device: it sends frames as that guest and sees what reaches it.</summary>
    public GuestPacketSocket Socket(string netns, string tap) => GuestPacketSocket.Open($"/run/netns/{netns}", tap);

    public JsonElement Stats() => Serve.Stats();

    /// <summary>The DHCP leases, as the control API lists them: address to (MAC, state).</summary>
    public Dictionary<string, (string Mac, string State)> Leases()
    {
        string socket = Path.Combine("/run/usernet", Serve.Name + ".sock");
        var result = ProcessRunner.Run("curl", "-s", "--unix-socket", socket, "http://usernet/leases");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.EnumerateArray().ToDictionary(
            lease => lease.GetProperty("address").GetString()!,
            lease => (lease.GetProperty("mac").GetString()!, lease.GetProperty("state").GetString()!));
    }

    /// <summary>What a failed assertion shows: the counters and serve's log.</summary>
    public override string ToString() => $"{Stats()}\n--- usernet serve\n{Serve.Stderr}";

    public void Dispose()
    {
        _serve?.Dispose();
        foreach (string netns in _namespaces)
        {
            ProcessRunner.Run("ip", "netns", "del", netns);
        }
        foreach (string tap in _taps)
        {
            // A TAP device that never left the host namespace (setup failed early).
            ProcessRunner.Run("ip", "link", "del", tap);
        }
    }
}
