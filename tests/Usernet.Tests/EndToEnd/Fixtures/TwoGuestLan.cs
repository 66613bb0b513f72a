using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// One `usernet serve` LAN with two guests, each a network namespace whose TAP device serve has
/// open: A takes the first address by DHCP (192.168.65.3), B the next (192.168.65.4), and both
/// configure IPv6 from the gateway's router advertisements. Each has a MAC of its own. Disposing
/// stops serve, then removes the namespaces (with their devices) and anything left in them,
/// whether the test passed or not.
/// </summary>
internal sealed class TwoGuestLan : IDisposable
{
    public static readonly MacAddress MacA = new(0x02_00_00_00_AA_01);
    public static readonly MacAddress MacB = new(0x02_00_00_00_BB_01);
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.168.65.3");
    public static readonly Ipv4Address AddressB = Ipv4Address.Parse("192.168.65.4");

    private readonly List<string> _taps = new();
    private ServeInstance? _serve;
    private NetworkNamespace? _a;
    private NetworkNamespace? _b;

    private TwoGuestLan()
    {
    }

    public string TapA { get; private set; } = "";

    public string TapB { get; private set; } = "";

    public NetworkNamespace A => _a!;

    public NetworkNamespace B => _b!;

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
            lan._a = Enter(lan.TapA, MacA);
            lan._b = Enter(lan.TapB, MacB);
            Lease(lan.A, lan.TapA, AddressA);
            Lease(lan.B, lan.TapB, AddressB);
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
        NetworkNamespace.Ip("tuntap", "add", "dev", tap, "mode", "tap");
        _taps.Add(tap);
        return tap;
    }

    /// <summary>Moves the TAP (serve keeps its fd open) into a namespace of its own, with <paramref name="mac"/>.</summary>
    private static NetworkNamespace Enter(string tap, MacAddress mac)
    {
        var guest = NetworkNamespace.Create("ulan");
        NetworkNamespace.Ip("link", "set", tap, "netns", guest.Name);
        guest.Exec("sh", "-c", $"ip link set lo up; ip link set dev {tap} address {mac}; ip link set {tap} up");
        return guest;
    }

    /// <summary>Takes a lease by DHCP with busybox's client, and configures what it got.</summary>
    private static void Lease(NetworkNamespace guest, string tap, Ipv4Address expected)
    {
        string output = guest.Exec("sh", "-c", $"busybox udhcpc -i {tap} -q -n -f -t 5 -s /bin/true 2>&1; " +
            $"ip addr add {expected}/24 dev {tap}; ip route add default via 192.168.65.1");
        Assert.Contains($"lease of {expected} obtained", output);
    }

    /// <summary>A raw socket on a guest's TAP device: it sends frames as that guest and sees what reaches it.</summary>
    public static GuestPacketSocket Socket(NetworkNamespace guest, string tap) => GuestPacketSocket.Open($"/run/netns/{guest.Name}", tap);

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
        _a?.Dispose();
        _b?.Dispose();
        foreach (string tap in _taps)
        {
            // Gone with its namespace; still here if setup failed before it moved.
            ProcessRunner.Run("ip", "link", "del", tap);
        }
    }
}
