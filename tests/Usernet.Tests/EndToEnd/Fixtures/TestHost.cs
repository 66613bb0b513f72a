using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A host the tests create to stand in for "the internet": a network namespace joined to the
/// host's by a veth pair, with addresses from 198.18.0.0/15 (RFC 2544's benchmarking range).
/// Usernet, in the host namespace, reaches it through the host's ordinary routing. Disposing
/// kills every program in it (see <see cref="NetworkNamespace"/>) and removes it.
/// </summary>
internal sealed class TestHost : IDisposable
{
    private static int s_next;
    private readonly NetworkNamespace _namespace;

    private TestHost(NetworkNamespace @namespace, string hostSide, string address, string hostAddress, string address6)
    {
        _namespace = @namespace;
        HostSideInterface = hostSide;
        Address = address;
        HostSideAddress = hostAddress;
        Address6 = address6;
    }

    /// <summary>The test host's IPv6 address, from 2001:2::/48 (RFC 5180's benchmarking range).</summary>
    public string Address6 { get; }

    public string Name => _namespace.Name;

    public string HostSideInterface { get; }

    /// <summary>The test host's address, reachable from the host (and so from guests through Usernet).</summary>
    public string Address { get; }

    /// <summary>The host's address on the veth: where the test host sends its replies.</summary>
    public string HostSideAddress { get; }

    /// <summary>An address on the test host's link that nobody answers for (ARP fails).</summary>
    public string Vacant => Ipv4Address.Parse(Address).Offset(1).ToString();

    public static TestHost Create()
    {
        // A /29 of its own within 198.18.0.0/15, unique to this process and test: .1 is the
        // host's end, .2 the test host's, and .3 has nobody behind it.
        int block = (Environment.ProcessId * 64 + Interlocked.Increment(ref s_next)) % 16384;
        var network = new Ipv4Address(0xC612_0000u + (uint)(block * 8));
        string hostAddress = network.Offset(1).ToString();
        string address = network.Offset(2).ToString();
        string hostSide = TestEnvironment.UniqueName("uvh");
        string peer = TestEnvironment.UniqueName("uvp");
        string prefix6 = $"2001:2:0:{block:x}";
        var host = new TestHost(NetworkNamespace.Create("uth"), hostSide, address, hostAddress, $"{prefix6}::2");
        try
        {
            NetworkNamespace.Ip("link", "add", hostSide, "type", "veth", "peer", "name", peer);
            NetworkNamespace.Ip("link", "set", peer, "netns", host.Name);
            NetworkNamespace.Ip("addr", "add", $"{hostAddress}/29", "dev", hostSide);
            NetworkNamespace.Ip("addr", "add", $"{prefix6}::1/64", "dev", hostSide, "nodad");
            NetworkNamespace.Ip("link", "set", hostSide, "up");
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

    /// <summary>Runs a command in the test host and checks it succeeds.</summary>
    public string Exec(params string[] command) => _namespace.Exec(command);

    /// <summary>Starts a long-running program in the test host; it is killed when the host is disposed, if not before.</summary>
    public ManagedProcess Start(params string[] command) => _namespace.Start(command);

    public void Dispose()
    {
        // Deleting the namespace deletes the veth pair with it.
        _namespace.Dispose();
        ProcessRunner.Run("ip", "link", "del", HostSideInterface);
    }
}
