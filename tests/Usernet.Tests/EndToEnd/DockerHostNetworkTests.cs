using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// `docker run --network host` under `usernet docker`, with the real dockerd: what a container on
/// the guest's network listens on is published on the host's loopback while it listens, as in
/// Docker Desktop 4.34, and nothing else of the guest's network namespace is (the userland proxy
/// of a `-p` binding, which the API proxy publishes already).
/// </summary>
public sealed class DockerHostNetworkTests(DockerWorld world) : IClassFixture<DockerWorld>
{
    private UsernetDocker Docker => world.Docker;

    /// <summary>A container on the host network serving a 1 MiB random /www/blob over HTTP on <paramref name="port"/>; its name.</summary>
    private string RunHostNetworkHttpd(int port)
    {
        string name = TestEnvironment.UniqueName("hn");
        Docker.Check("run", "-d", "--network", "host", "--name", name, world.Image, "sh", "-c",
            $"head -c 1048576 /dev/urandom > /www/blob && exec httpd -f -p {port} -h /www");
        return name;
    }

    /// <summary>The SHA-256 of a GET from the host, retried while the port comes up (published within a second of the listen); null when it never answers.</summary>
    private static string? FetchSha256(string url)
    {
        string? sha = null;
        Wait.Until(() =>
        {
            var result = ProcessRunner.Run("sh", ["-c", $"curl -sS --fail --max-time 5 {url} | sha256sum"], TimeSpan.FromSeconds(10));
            sha = result.ExitCode == 0 && !result.Stdout.StartsWith("e3b0c44298fc", StringComparison.Ordinal) && result.Stderr.Length == 0
                ? result.Stdout[..64]
                : null;
            return sha is not null;
        }, 20);
        return sha;
    }

    [RootFact]
    public void AHostNetworkContainersPortIsPublishedOnLoopbackUntilItStops()
    {
        int port = Ports.Free();
        string name = RunHostNetworkHttpd(port);
        try
        {
            string expected = Docker.Check("exec", name, "sha256sum", "/www/blob")[..64];
            Assert.Equal(expected, FetchSha256($"http://127.0.0.1:{port}/blob"));
            var publish = Assert.Single(Docker.PublishedOn(port));
            Assert.Equal(name, publish.GetProperty("container").GetString());
            // Loopback only, as -p auto: the container chose the port, not the user.
            Assert.All(publish.GetProperty("host").EnumerateArray(), host =>
                Assert.True(host.GetString() == $"127.0.0.1:{port}" || host.GetString() == $"[::1]:{port}", host.GetString()));

            Docker.Check("stop", "-t", "5", name);
            Assert.True(Wait.Until(() => Docker.PublishedOn(port).Count == 0, 15), "the port stayed published after the container stopped");
            Assert.False(Ports.Accepts(port), $"port {port} still accepts after the container stopped");
        }
        finally
        {
            Docker.Docker("rm", "-f", name);
        }
    }

    [RootFact]
    public void AUserlandProxyOfAPublishedContainerIsNotPublishedAgain()
    {
        // -p without a host IP: dockerd's userland proxy listens on the port in the guest's
        // network namespace, beside the host-network container's listener.
        int proxied = Ports.Free();
        string bridged = TestEnvironment.UniqueName("br");
        Docker.Check("run", "-d", "--init", "--name", bridged, "-p", $"{proxied}:80", world.Image, "httpd", "-f", "-p", "80", "-h", "/www");
        int port = Ports.Free();
        string hostNetwork = RunHostNetworkHttpd(port);
        try
        {
            // Once the host-network container's port is published, a look at the guest's
            // sockets has seen the userland proxy's too.
            Assert.NotNull(FetchSha256($"http://127.0.0.1:{port}/blob"));
            Assert.True(Wait.Until(() => Ports.Accepts(proxied), 10));
            var publish = Assert.Single(Docker.PublishedOn(proxied));
            Assert.Equal(bridged, publish.GetProperty("container").GetString());
            var stats = UsernetStats.Read(Docker.Name);
            Assert.Equal(1, stats.GetProperty("ports").GetProperty("auto").GetProperty("published").GetInt32());
            Assert.DoesNotContain("cannot publish the guest's port automatically", Docker.Process.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Docker.Docker("rm", "-f", bridged, hostNetwork);
        }
    }
}
