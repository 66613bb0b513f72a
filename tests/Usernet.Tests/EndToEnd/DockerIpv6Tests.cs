using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// IPv6 from containers under `usernet docker`, with the real dockerd: a container on a network
/// made with --ipv6 reaches a test host's IPv6 address through Usernet, its packets leaving the
/// guest through dockerd's ip6tables NAT (which `usernet docker` turns on).
/// </summary>
public sealed class DockerIpv6Tests(DockerWorld world) : IClassFixture<DockerWorld>
{
    private UsernetDocker Docker => world.Docker;

    [RootFact]
    public void AContainerOnAnIpv6NetworkReachesATestHostsIpv6Address()
    {
        using var host = TestHost.Create();
        using var blob = new Blob(1 << 20);
        using var server = host.Start("socat", "-u", $"FILE:{blob.Path}", $"TCP6-LISTEN:8080,bind=[{host.Address6}],reuseaddr,fork");
        string network = TestEnvironment.UniqueName("v6");
        // A unique-local /64 of its own, so that two runs never share one.
        int unique = Random.Shared.Next(0x10000);
        string subnet = $"fd00:d6:{unique:x}::/64";
        Docker.Check("network", "create", "--ipv6", "--subnet", subnet, network);
        try
        {
            string output = Docker.Check("run", "--rm", "--network", network, world.Image, "sh", "-c",
                $"for i in 1 2 3 4 5 6 7 8 9 10; do socat -u TCP6:[{host.Address6}]:8080 CREATE:/tmp/got && break; sleep 1; done; " +
                "sha256sum /tmp/got; cat /proc/net/if_inet6");
            Assert.Equal(blob.Sha256, output[..64]);
            // The container's own address is the network's, not the guest's: NAT carried it.
            Assert.Contains($"fd0000d6{unique:x4}", output, StringComparison.Ordinal);
        }
        finally
        {
            Docker.Docker("network", "rm", network);
        }
    }
}
