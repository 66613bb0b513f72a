using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// What `usernet run` leaves on the host, compared with the whole machine before and after: it
/// runs alone, since a test host or guest of a test running beside it would show up too.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class RunCleanupTests
{
    [RootFact]
    public void NothingIsLeftBehindAfterARun()
    {
        string linksBefore = ProcessRunner.Check(ProcessRunner.Run("ip", "-o", "link"));
        // The command leaves an orphan behind in its namespace; it must not outlive the run.
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--", "sh", "-c", "readlink /proc/self/ns/net; sleep 300 & echo $!"], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        string netns = result.Stdout.Split('\n')[0].Trim();
        Assert.StartsWith("net:[", netns);
        Assert.True(Wait.Until(() => NetworkNamespace.ProcessesIn(netns).Count == 0), $"processes left in {netns}: {string.Join(',', NetworkNamespace.ProcessesIn(netns))}");
        Assert.Equal(linksBefore, ProcessRunner.Check(ProcessRunner.Run("ip", "-o", "link")));
        Assert.Empty(Directory.GetFiles("/dev/shm", "usernet-resolv-*"));
    }
}
