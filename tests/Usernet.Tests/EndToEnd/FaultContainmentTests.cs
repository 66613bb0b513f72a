using System.Text.Json;
using Usernet.Services.Diagnostics;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A real guest sends frames that make a service throw, and a frame that arms a timer that
/// throws (the instance runs with <see cref="ThrowingUdpService"/>, as no real service throws
/// any more). Each fault costs its frame or its timer run and is counted; the guest's link and
/// the process carry on. A throw used to close the link ("Network is unreachable" for the rest
/// of the command), and one in a timer ended the process.
/// </summary>
public sealed class FaultContainmentTests
{
    [RootFact]
    public void FramesThatMakeAServiceThrowAndATimerThatThrowsLeaveTheLinkWorking()
    {
        using var session = GuestSession.StartWrapped(["env", $"{ThrowingUdpService.EnvironmentVariable}=1"]);
        const int Throws = 20;
        var sent = session.Shell(
            $"for i in $(seq {Throws}); do echo boom | socat -u - udp:192.168.65.1:{ThrowingUdpService.Port}; done; " +
            $"echo timer | socat -u - udp:192.168.65.1:{ThrowingUdpService.Port}");
        Assert.True(sent.ExitCode == 0, sent.ToString());

        var ping = session.Exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1"]);
        Assert.True(ping.ExitCode == 0, $"{ping}\n--- usernet\n{session.Stderr}");
        var stats = session.Stats();
        var faults = stats.GetProperty("faults");
        Assert.Equal(Throws + 1, Count(faults, "frame ThrowingUdpService"));
        Assert.Equal(1, Count(faults, "timer ThrowingUdpService"));
        Assert.Equal(Throws + 2, stats.GetProperty("loopFaults").GetInt64());
        Assert.Equal(1, stats.GetProperty("links").GetArrayLength());
        Assert.Equal(0, stats.GetProperty("switch").GetProperty("linksClosed").GetInt64());
        // Each fault is logged with its stack trace, a few a minute.
        Assert.Contains("frame ThrowingUdpService failed", session.Stderr);
        Assert.True(session.Stderr.Split("frame ThrowingUdpService failed").Length - 1 <= 6, session.Stderr);
    }

    private static long Count(JsonElement faults, string handler) =>
        faults.TryGetProperty(handler, out var byType) && byType.TryGetProperty(nameof(InvalidOperationException), out var count) ? count.GetInt64() : 0;
}
