using System.Diagnostics;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A real dnsmasq as a test upstream nameserver: port 53 on an address of 127.0.0.0/8 of its
/// own (resolv.conf cannot name a port), authoritative for .test only (--local=/test/), with
/// records from the arguments. Stopped by PID.
/// </summary>
internal sealed class Dnsmasq : IDisposable
{
    private static int s_next;
    private readonly Process _process;

    private Dnsmasq(Process process, string address)
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
        var process = ProcessRunner.Start("dnsmasq", arguments);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var dnsmasq = new Dnsmasq(process, address);
        bool up = RunCommandTests.WaitUntil(() =>
            process.HasExited
            || ProcessRunner.Run("dig", [$"@{address}", "+time=1", "+tries=1", "+short", "SOA", "test"], TimeSpan.FromSeconds(5)).ExitCode == 0);
        if (!up || process.HasExited)
        {
            dnsmasq.Dispose();
            throw new InvalidOperationException($"dnsmasq on {address} did not start");
        }
        return dnsmasq;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGKILL);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
