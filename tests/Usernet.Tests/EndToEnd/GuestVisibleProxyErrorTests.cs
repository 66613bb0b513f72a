using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A guest's curl through the proxy hears what went wrong, never with what: a PAC URL with a
/// password and a token in it, or an upstream proxy's address and user, stay on the host.
/// </summary>
public sealed class GuestVisibleProxyErrorTests : IDisposable
{
    private const string Password = "s3cret-pw";
    private const string Token = "T0K3N-9f2";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-proxy-errors-");

    private string SettingsPath => Path.Combine(_directory.FullName, "settings.json");

    public void Dispose() => _directory.Delete(recursive: true);

    private void WriteSettings(string proxy)
    {
        File.WriteAllText(SettingsPath + ".new", $$"""{ "dns": { "hostResolver": false, "servers": ["127.0.0.1:1"] }, "proxy": {{proxy}} }""");
        File.Move(SettingsPath + ".new", SettingsPath, overwrite: true);
    }

    private static string Curl(GuestSession guest, string url) =>
        guest.Shell($"curl -sS -v --max-time 15 -x http://http.docker.internal:3128 {url} 2>&1", TimeSpan.FromSeconds(30)).Stdout;

    [RootFact]
    public void APacLocationAndAnUpstreamsAddressAndUserAreNotToldToTheGuest()
    {
        int closed = Ports.Free();
        string pac = $"http://alice:{Password}@127.0.0.1:{closed}/proxy.pac?token={Token}";
        WriteSettings($$"""{ "mode": "manual", "pac": "{{pac}}" }""");
        using var guest = GuestSession.Start("--settings", SettingsPath);

        string blocked = Curl(guest, "http://web.test/");
        Assert.Contains("HTTP/1.1 403", blocked);
        Assert.Contains("X-Usernet-Error: web.test:80 is blocked: the PAC script is not usable", blocked);
        AssertNothingOfTheHost(blocked, closed);
        string tunnel = Curl(guest, "https://web.test/");
        Assert.Contains("403", tunnel);
        AssertNothingOfTheHost(tunnel, closed);
        // The log says why, with the password masked.
        Assert.Contains($"127.0.0.1:{closed}/proxy.pac", guest.Stderr);
        Assert.DoesNotContain(Password, guest.Stderr);

        string upstream = $"http://alice:{Password}@127.0.0.1:{closed}";
        WriteSettings($$"""{ "mode": "manual", "http": "{{upstream}}", "https": "{{upstream}}" }""");
        ProcessRunner.Check(ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "reload", "--instance", guest.Instance));
        string dead = Curl(guest, "http://web.test/");
        Assert.Contains("HTTP/1.1 502", dead);
        Assert.Contains("X-Usernet-Error: cannot connect to the upstream proxy: connection refused", dead);
        AssertNothingOfTheHost(dead, closed);
        string deadTunnel = Curl(guest, "https://web.test/");
        Assert.Contains("cannot connect to the upstream proxy: connection refused", deadTunnel);
        AssertNothingOfTheHost(deadTunnel, closed);
    }

    private static void AssertNothingOfTheHost(string heard, int port)
    {
        Assert.DoesNotContain(Password, heard);
        Assert.DoesNotContain(Token, heard);
        Assert.DoesNotContain("alice", heard);
        Assert.DoesNotContain($":{port}", heard);
        Assert.DoesNotContain("proxy.pac", heard);
    }
}
