using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// `usernet doctor` on this machine, as root and as an unprivileged user. Its one outside query
/// (the resolver check) goes to a test dnsmasq: doctor runs in a private mount namespace whose
/// /etc/resolv.conf names it. This machine ships /dev/net/tun as 0600; tests that need another
/// mode set it for their duration and put it back.
/// </summary>
[Collection(nameof(TunDeviceMode))]
public sealed class DoctorTests
{
    private static readonly string[] HostChecks =
    [
        "root", "user namespaces", "/dev/net/tun", "ping_group_range", "newuidmap, /etc/subuid", "cgroup v2", "dockerd",
        "IPv6 default route", "GSSAPI", "settings", "resolver",
    ];

    private static readonly string[] Steps = ["namespace", "confine", "dhcp", "arp", "ping gateway", "ping host", "dns", "tcp"];

    private const string AsNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp XDG_RUNTIME_DIR=";

    /// <summary>Runs doctor with a test resolver (a dnsmasq, or only an address where nothing answers), optionally as nobody.</summary>
    private static ProcessResult Doctor(string nameserver, bool asNobody, params string[] arguments)
    {
        using var resolver = new IsolatedResolver("", nameserver);
        string[] user = asNobody ? AsNobody.Split(' ') : [];
        string[] home = asNobody ? [] : ["env", $"XDG_CONFIG_HOME={resolver.Directory}"];
        return ProcessRunner.Run(resolver.Wrapper[0], [.. resolver.Wrapper[1..], .. user, .. home, TestEnvironment.UsernetBinary, "doctor", .. arguments],
            TimeSpan.FromSeconds(60));
    }

    private static List<JsonElement> Checks(ProcessResult result)
    {
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.GetProperty("checks").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static JsonElement Find(List<JsonElement> checks, string name) => checks.Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>Runs doctor --json, asserts it passed with every self-test step ok and timed, and returns its checks.</summary>
    private static List<JsonElement> Passes(string nameserver, bool asNobody)
    {
        var result = Doctor(nameserver, asNobody, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var checks = Checks(result);
        foreach (string step in Steps)
        {
            var check = Find(checks, step);
            Assert.True(check.GetProperty("status").GetString() == "ok", $"{step}: {check}\n{result}");
            Assert.True(check.GetProperty("milliseconds").GetDouble() >= 0, check.ToString());
        }
        return checks;
    }

    [RootFact]
    public void AsRootItPassesAndTheSelfTestIsQuick()
    {
        using var dnsmasq = Dnsmasq.Start();
        var checks = Passes(dnsmasq.Address, asNobody: false);
        Assert.Contains("uid 0", Find(checks, "root").GetProperty("found").GetString());
        // The resolver check asked the test server (which refuses the root zone), not the machine's resolver.
        var resolver = Find(checks, "resolver");
        Assert.Contains($"{dnsmasq.Address}:53 (first of /etc/resolv.conf)", resolver.GetProperty("found").GetString());
        Assert.Contains("REFUSED", resolver.GetProperty("found").GetString());
        // Well under a second on an idle machine; the bound leaves room for a busy one, but not for a step that waits out a retry.
        double total = Steps.Sum(s => Find(checks, s).GetProperty("milliseconds").GetDouble());
        Assert.True(total < 1500, $"the self-test took {total} ms: {string.Join(", ", Steps.Select(s => Find(checks, s).GetProperty("milliseconds").GetDouble()))}");
    }

    [RootFact]
    public void AsAnUnprivilegedUserItPassesWhenTheTunDeviceIsOpenToAll()
    {
        using var dnsmasq = Dnsmasq.Start();
        using var _ = TunDeviceMode.DistributionDefault();
        var checks = Passes(dnsmasq.Address, asNobody: true);
        Assert.Contains("uid 65534", Find(checks, "root").GetProperty("found").GetString());
        Assert.Equal("ok", Find(checks, "/dev/net/tun").GetProperty("status").GetString());
    }

    [RootFact]
    public void AsAnUnprivilegedUserWithoutTheTunDeviceItNamesTheProblemAndItsFix()
    {
        using var dnsmasq = Dnsmasq.Start();
        using var _ = TunDeviceMode.Set(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var result = Doctor(dnsmasq.Address, asNobody: true);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("FAIL  /dev/net/tun            mode 0600, cannot be opened by uid 65534", result.Stdout);
        Assert.Contains("fix: chmod 0666 /dev/net/tun (as root; distributions ship it so)", result.Stdout);
        Assert.Contains("skip  namespace               not run: /dev/net/tun failed above", result.Stdout);
        Assert.Contains("Usernet cannot run here", result.Stdout);
    }

    [RootFact]
    public void TheJsonHasOneEntryPerCheck()
    {
        // Nothing listens on this address: the resolver check warns, which does not stop Usernet.
        var result = Doctor(Dnsmasq.UniqueLoopbackAddress(), asNobody: false, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        Assert.True(document.RootElement.GetProperty("canRun").GetBoolean());
        var checks = Checks(result);
        Assert.Equal([.. HostChecks, .. Steps], checks.Select(c => c.GetProperty("name").GetString()));
        foreach (var check in checks)
        {
            string status = check.GetProperty("status").GetString()!;
            Assert.Contains(status, (string[])["ok", "warn", "fail", "skip"]);
            Assert.False(string.IsNullOrEmpty(check.GetProperty("found").GetString()), check.ToString());
            Assert.False(string.IsNullOrEmpty(check.GetProperty("enables").GetString()), check.ToString());
            Assert.Equal(status is "warn" or "fail", check.GetProperty("fix").ValueKind == JsonValueKind.String);
        }
        Assert.Equal("warn", Find(checks, "resolver").GetProperty("status").GetString());
    }

    [RootFact]
    public void SettingsThatDoNotLoadFailWithTheKeyAndSkipTheSelfTest()
    {
        var result = Doctor(Dnsmasq.UniqueLoopbackAddress(), asNobody: false, "--json", "--set", "network.mtu=lots");
        Assert.True(result.ExitCode == 1, result.ToString());
        var checks = Checks(result);
        var settings = Find(checks, "settings");
        Assert.Equal("fail", settings.GetProperty("status").GetString());
        Assert.Contains("network.mtu", settings.GetProperty("found").GetString());
        Assert.All(Steps, s => Assert.Equal("skip", Find(checks, s).GetProperty("status").GetString()));
    }
}
