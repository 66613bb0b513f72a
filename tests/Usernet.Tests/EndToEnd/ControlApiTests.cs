using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The control socket: private to its user, strict about what it accepts. Alone: one test opens
/// /run/usernet to others for a moment, and a Usernet starting beside it then refuses that
/// directory as not private (as it should), which failed an unrelated test in a fresh clone's suite.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class ControlApiTests
{
    private static string SocketOf(GuestSession session) => Path.Combine("/run/usernet", session.Instance + ".sock");

    [RootFact]
    public void TheSocketIsPrivateToItsUser()
    {
        using var session = GuestSession.Start();
        string socket = SocketOf(session);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        // Even with the file opened up, the server checks the caller's uid itself.
        var originalDirectory = File.GetUnixFileMode("/run/usernet");
        try
        {
            File.SetUnixFileMode("/run/usernet", originalDirectory | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            var other = ProcessRunner.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "curl", "-s", "-w", "%{http_code}", "--unix-socket", socket, "http://usernet/stats");
            Assert.EndsWith("403", other.Stdout.Trim());
            Assert.Contains("may not control", other.Stdout);
        }
        finally
        {
            File.SetUnixFileMode("/run/usernet", originalDirectory);
            File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [RootFact]
    public void MalformedAndUnknownRequestsGetClearErrors()
    {
        using var session = GuestSession.Start();
        string socket = SocketOf(session);
        var malformed = ProcessRunner.Shell($"printf 'NONSENSE\\r\\n\\r\\n' | socat -t 5 - UNIX-CONNECT:{socket}");
        Assert.StartsWith("HTTP/1.1 400", malformed.Stdout);
        var unknown = ProcessRunner.Run("curl", "-s", "-w", "\n%{http_code}", "--unix-socket", socket, "http://usernet/no/such/thing");
        Assert.EndsWith("404", unknown.Stdout.Trim());
        var stats = ProcessRunner.Run("curl", "-s", "--unix-socket", socket, "http://usernet/stats");
        using var document = JsonDocument.Parse(stats.Stdout);
        Assert.Equal(session.Instance, document.RootElement.GetProperty("instance").GetString());
    }

    [RootFact]
    public void TwoInstancesCannotShareAName()
    {
        using var session = GuestSession.Start();
        var second = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--instance", session.Instance, "--", "true"], TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("already running", second.Stderr);
        // The first one is untouched.
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "stats", "--instance", session.Instance).ExitCode);
    }
}
