using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

public sealed class PcapTests
{
    [RootFact]
    public void PcapRecordsTheFramesOnTheLinkReadablyForTcpdump()
    {
        string file = Path.Combine(Path.GetTempPath(), $"usernet-test-{Guid.NewGuid():N}.pcap");
        try
        {
            var run = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--pcap", file, "--", "ping", "-c", "2", "-i", "0.2", "192.168.65.1"],
                TimeSpan.FromSeconds(30));
            Assert.True(run.ExitCode == 0, run.ToString());
            var read = ProcessRunner.Run("tcpdump", "-n", "-r", file);
            Assert.True(read.ExitCode == 0, read.ToString());
            Assert.Contains("192.168.65.3 > 192.168.65.1: ICMP echo request", read.Stdout);
            Assert.Contains("192.168.65.1 > 192.168.65.3: ICMP echo reply", read.Stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [RootFact]
    public void ClosingAndReusingAPortSendsTheGuestNoStraySegments()
    {
        string file = Path.Combine(Path.GetTempPath(), $"usernet-test-{Guid.NewGuid():N}.pcap");
        int port = Ports.Free();
        // The host side closes first, so Usernet's side of each connection ends in TIME-WAIT
        // and the guest, the passive closer, may reuse its port at once.
        using var server = ManagedProcess.Start("socat", [$"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "SYSTEM:echo hi"]);
        try
        {
            Assert.True(Wait.Until(() => ProcessRunner.Run("ss", "-Hltn", $"sport = :{port}").Stdout.Contains($":{port}"), 5));
            string connect = $"socat -u TCP:192.168.65.254:{port},sourceport=40123,reuseaddr -";
            var run = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--pcap", file, "--", "sh", "-c", $"{connect} && {connect}"],
                TimeSpan.FromSeconds(30));
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal("hi\nhi\n", run.Stdout);
            var fromUsernet = ProcessRunner.Check(ProcessRunner.Run("tcpdump", "-n", "-r", file, "tcp and src host 192.168.65.254"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line[(line.IndexOf("Flags", StringComparison.Ordinal))..])
                .ToList();
            Assert.Equal(2, fromUsernet.Count(line => line.StartsWith("Flags [S.]", StringComparison.Ordinal)));
            // Replacing the connection in TIME-WAIT must not reset the new one's SYN-SENT.
            Assert.DoesNotContain(fromUsernet, line => line.StartsWith("Flags [R", StringComparison.Ordinal));
            // A FIN carries the ACK; a pure ACK with the same numbers right after it says nothing.
            for (int i = 1; i < fromUsernet.Count; i++)
            {
                if (fromUsernet[i - 1].StartsWith("Flags [F.]", StringComparison.Ordinal) && fromUsernet[i].StartsWith("Flags [.]", StringComparison.Ordinal))
                {
                    string Ack(string line) => line.Split("ack ")[1].Split(',')[0];
                    Assert.NotEqual(Ack(fromUsernet[i - 1]), Ack(fromUsernet[i]));
                }
            }
            // The guest leaves its TCP checksums to Usernet (TAP checksum offload); the capture
            // shows them as they would be on a wire, completed, and Usernet's own as sent.
            string verbose = ProcessRunner.Check(ProcessRunner.Run("tcpdump", "-vv", "-n", "-r", file, "tcp"));
            Assert.Contains("(correct)", verbose);
            Assert.DoesNotContain("incorrect", verbose);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
