using System.Diagnostics;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A host the tests create to stand in for "the internet": a network namespace joined to the
/// host's by a veth pair, with addresses from 198.18.0.0/15 (RFC 2544's benchmarking range).
/// Usernet, in the host namespace, reaches it through the host's ordinary routing.
/// </summary>
internal sealed class TestHost : IDisposable
{
    private static int s_next;
    private readonly List<Process> _processes = new();

    private TestHost(string name, string hostSide, string address, string hostAddress, string address6)
    {
        Name = name;
        HostSideInterface = hostSide;
        Address = address;
        HostSideAddress = hostAddress;
        Address6 = address6;
    }

    /// <summary>The test host's IPv6 address, from 2001:2::/48 (RFC 5180's benchmarking range).</summary>
    public string Address6 { get; }

    public string Name { get; }

    public string HostSideInterface { get; }

    /// <summary>The test host's address, reachable from the host (and so from guests through Usernet).</summary>
    public string Address { get; }

    /// <summary>The host's address on the veth: where the test host sends its replies.</summary>
    public string HostSideAddress { get; }

    /// <summary>An address on the test host's link that nobody answers for (ARP fails).</summary>
    public string Vacant
    {
        get
        {
            string[] parts = Address.Split('.');
            return $"{parts[0]}.{parts[1]}.{parts[2]}.{int.Parse(parts[3]) + 1}";
        }
    }

    public static TestHost Create()
    {
        // A /29 of its own within 198.18.0.0/15, unique to this process and test: .1 is the
        // host's end, .2 the test host's, and .3 has nobody behind it.
        int block = (Environment.ProcessId * 64 + Interlocked.Increment(ref s_next)) % 16384;
        uint network = 0xC612_0000u + (uint)(block * 8);
        string hostAddress = Format(network + 1);
        string address = Format(network + 2);
        string name = TestEnvironment.UniqueName("uth");
        string hostSide = TestEnvironment.UniqueName("uvh");
        string peer = TestEnvironment.UniqueName("uvp");
        string prefix6 = $"2001:2:0:{block:x}";
        var host = new TestHost(name, hostSide, address, hostAddress, $"{prefix6}::2");
        try
        {
            Run("ip", "netns", "add", name);
            Run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", peer);
            Run("ip", "link", "set", peer, "netns", name);
            Run("ip", "addr", "add", $"{hostAddress}/29", "dev", hostSide);
            Run("ip", "addr", "add", $"{prefix6}::1/64", "dev", hostSide, "nodad");
            Run("ip", "link", "set", hostSide, "up");
            host.Exec("ip", "addr", "add", $"{address}/29", "dev", peer);
            host.Exec("ip", "addr", "add", $"{prefix6}::2/64", "dev", peer, "nodad");
            host.Exec("ip", "link", "set", peer, "up");
            host.Exec("ip", "link", "set", "lo", "up");
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static string Format(uint address) =>
        $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}";

    private static void Run(params string[] command) =>
        ProcessRunner.Check(ProcessRunner.Run(command[0], command[1..], TimeSpan.FromSeconds(10)));

    /// <summary>Runs a command in the test host and checks it succeeds.</summary>
    public string Exec(params string[] command) =>
        ProcessRunner.Check(ProcessRunner.Run("ip", ["netns", "exec", Name, .. command], TimeSpan.FromSeconds(30)));

    /// <summary>Starts a long-running program in the test host; it is stopped when the host is disposed.</summary>
    public Process Start(params string[] command)
    {
        var process = ProcessRunner.Start("ip", ["netns", "exec", Name, .. command]);
        _processes.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    Libc.Kill(process.Id, Libc.SIGKILL);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Its owner (say, an Nginx) already stopped and disposed it.
            }
            process.Dispose();
        }
        // Deleting the namespace deletes the veth pair with it.
        ProcessRunner.Run("ip", "netns", "del", Name);
        ProcessRunner.Run("ip", "link", "del", HostSideInterface);
    }
}
