using System.Text.Json;
using Usernet.Cli.Doctor;

namespace Usernet.Tests.Cli;

public sealed class DoctorReportTests
{
    private static readonly DoctorCheck[] Checks =
    [
        DoctorCheck.Ok("root", "uid 0", "TAP devices"),
        DoctorCheck.Warn("dockerd", "not installed", "usernet docker", "apt-get install docker.io"),
        DoctorCheck.Skip("newuidmap", "not needed as root", "rootless dockerd"),
        new DoctorCheck("dhcp", CheckStatus.Ok, "192.168.65.3/24", "DHCP", "never shown for ok") { Group = "self-test", Elapsed = TimeSpan.FromMicroseconds(1234) },
    ];

    [Fact]
    public void WarningsLetUsernetRunAndAFailureDoesNot()
    {
        Assert.Equal(0, new DoctorReport(Checks).ExitCode);
        var failed = new DoctorReport([.. Checks, DoctorCheck.Fail("/dev/net/tun", "mode 0600", "run", "chmod 0666 /dev/net/tun")]);
        Assert.False(failed.CanRun);
        Assert.Equal(1, failed.ExitCode);
    }

    [Fact]
    public void TheJsonHasOneEntryPerCheckWithItsFixOnlyWhenNotOk()
    {
        using var document = JsonDocument.Parse(new DoctorReport(Checks).ToJson());
        Assert.True(document.RootElement.GetProperty("canRun").GetBoolean());
        var entries = document.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(["root", "dockerd", "newuidmap", "dhcp"], entries.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(["ok", "warn", "skip", "ok"], entries.Select(e => e.GetProperty("status").GetString()));
        Assert.Equal("apt-get install docker.io", entries[1].GetProperty("fix").GetString());
        Assert.Equal(JsonValueKind.Null, entries[3].GetProperty("fix").ValueKind);
        Assert.Equal(1.23, entries[3].GetProperty("milliseconds").GetDouble());
        Assert.Equal("self-test", entries[3].GetProperty("group").GetString());
        Assert.False(entries[0].TryGetProperty("milliseconds", out _));
    }

    [Fact]
    public void TheTableShowsWhatEachEnablesAndTheFixOfWhatIsNotOk()
    {
        string text = new DoctorReport([.. Checks, DoctorCheck.Fail("/dev/net/tun", "mode 0600", "usernet run", "chmod 0666 /dev/net/tun")]).ToText();
        Assert.Contains("  warn  dockerd", text);
        Assert.Contains("fix: apt-get install docker.io", text);
        Assert.Contains("  FAIL  /dev/net/tun", text);
        Assert.Contains("fix: chmod 0666 /dev/net/tun", text);
        Assert.Contains("enables: TAP devices", text);
        Assert.Contains("1.2 ms  192.168.65.3/24", text);
        Assert.DoesNotContain("never shown for ok", text);
        Assert.EndsWith("Usernet cannot run here: fix what is marked FAIL (self-test: 1 ms).\n", text);
    }
}
