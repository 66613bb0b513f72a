namespace Usernet.Tests.EndToEnd;

public sealed class PcapTests
{
    [Fact]
    public void PcapRecordsTheFramesOnTheLinkReadablyForTcpdump()
    {
        TestEnvironment.RequireRoot();
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
}
