namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real dnsmasq as a test upstream nameserver: port 53 on an address of 127.0.0.0/8 of its
/// own (resolv.conf cannot name a port), authoritative for .test only (--local=/test/), with
/// records from the arguments. Killed by PID.
/// </summary>
internal sealed class Dnsmasq : IDisposable
{
    private static int s_next;
    private readonly ManagedProcess _process;

    private Dnsmasq(ManagedProcess process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    /// <summary>An address of 127.0.0.0/8 unique to this test process and call.</summary>
    public static string UniqueLoopbackAddress()
    {
        int n = Interlocked.Increment(ref s_next);
        return $"127.53.{Environment.ProcessId % 250 + 1}.{n % 250 + 1}";
    }

    public static Dnsmasq Start(params string[] records) => StartOn(UniqueLoopbackAddress(), records);

    public static Dnsmasq StartOn(string address, params string[] records)
    {
        string[] arguments =
        [
            "--no-daemon", "--conf-file=/dev/null", "--port=53", $"--listen-address={address}", "--bind-interfaces",
            "--no-resolv", "--no-hosts", "--pid-file=", "--user=root", "--local=/test/", "--local-ttl=60", .. records,
        ];
        var process = ManagedProcess.Start("dnsmasq", arguments);
        process.WaitUntilReady(() =>
            ProcessRunner.Run("dig", [$"@{address}", "+time=1", "+tries=1", "+short", "SOA", "test"], TimeSpan.FromSeconds(5)).ExitCode == 0);
        return new Dnsmasq(process, address);
    }

    public void Dispose() => _process.Dispose();
}
