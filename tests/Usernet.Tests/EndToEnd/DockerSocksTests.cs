using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>One <c>usernet docker --socks 127.0.0.1:PORT</c> for <see cref="DockerSocksTests"/>.</summary>
public sealed class DockerSocksWorld : DockerWorld
{
    public DockerSocksWorld()
        : this(Ports.Free())
    {
    }

    private DockerSocksWorld(int port)
        : base(["--socks", $"127.0.0.1:{port}"]) => SocksPort = port;

    public int SocksPort { get; }
}

/// <summary>
/// Reaching containers from the host under <c>usernet docker</c>, with the real dockerd and
/// clients: curl through the SOCKS server to containers' own addresses and names on a
/// user-defined network and on the default bridge, <c>usernet ping</c>, and routes that follow
/// Docker's networks as they are made and removed (through the API proxy, and by another client
/// on the guest's own socket). No port is published anywhere.
/// </summary>
public sealed class DockerSocksTests(DockerSocksWorld world) : IClassFixture<DockerSocksWorld>
{
    private UsernetDocker Docker => world.Docker;

    private static string NewName() => TestEnvironment.UniqueName("s");

    /// <summary>
    /// A container serving its own name over HTTP on port 80, and on port 81 (once) what its
    /// netstat shows of the connection that asked, on <paramref name="network"/>.
    /// </summary>
    private string RunHttpd(string? network, params string[] options) => RunHttpd(Docker, network, options);

    private string RunHttpd(UsernetDocker docker, string? network, string[] options, string? host = null)
    {
        string name = NewName();
        string[] arguments =
        [
            .. host is null ? [] : new[] { "-H", host },
            "run", "-d", "--init", "--name", name, .. network is null ? [] : new[] { "--network", network }, .. options, world.Image, "sh", "-c",
            $"echo {name} > /www/index.html && httpd -p 80 -h /www && (nc -l -p 81 -e netstat -tn &) && exec sleep 1000000",
        ];
        ProcessRunner.Check(docker.Docker(arguments));
        return name;
    }

    private string AddressOf(string container, string field = "IPAddress") =>
        Docker.Check("inspect", "-f", $"{{{{range .NetworkSettings.Networks}}}}{{{{.{field}}}}}{{{{end}}}}", container).Trim();

    private ProcessResult Curl(string url, string extra = "") =>
        ProcessRunner.Shell($"curl -sS -m 20 --proxy socks5h://127.0.0.1:{world.SocksPort} {extra} '{url}'", TimeSpan.FromSeconds(40));

    private ProcessResult Ping(string target) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["ping", "-c", "1", target, "--instance", Docker.Name], TimeSpan.FromSeconds(30));

    [RootFact]
    public void ContainersOnAUserDefinedNetworkAndTheDefaultBridgeAreReachedByAddressAndName()
    {
        string network = NewName();
        Docker.Check("network", "create", "--ipv6", "--subnet", "fd00:d0c:5::/64", network);
        string service = NewName();
        string first = RunHttpd(network, "--label", $"com.docker.compose.service={service}");
        string second = RunHttpd(network);
        string bridged = RunHttpd(null);

        foreach (string name in new[] { first, second, bridged })
        {
            string address = AddressOf(name);
            Assert.False(string.IsNullOrEmpty(address), name);
            // httpd starts with the container: docker run returns before it listens.
            Assert.True(Wait.Until(() => Curl($"http://{address}/").Stdout == name + "\n", 20), $"{name} at {address}: {Curl($"http://{address}/")}\n{Docker}");
            Assert.Equal(name + "\n", Curl($"http://{name}/").Stdout);
            foreach (string target in new[] { address, name })
            {
                var ping = Ping(target);
                Assert.True(ping.ExitCode == 0, ping.ToString());
                Assert.Contains("1 packets transmitted, 1 received", ping.Stdout);
            }
        }
        // The compose service's name, and the container's IPv6 address on its network.
        Assert.Equal(first + "\n", Curl($"http://{service}/").Stdout);
        string v6 = AddressOf(first, "GlobalIPv6Address");
        Assert.StartsWith("fd00:d0c:5::", v6);
        Assert.Equal(first + "\n", Curl($"http://[{v6}]/").Stdout);
        Assert.True(Ping(v6).ExitCode == 0, Ping(v6).ToString());

        // The container sees the client as a published port shows it (the host address), and
        // its answer came back: neither Docker's MASQUERADE nor its FORWARD chain is in the way.
        var netstat = Curl($"http://{bridged}:81/", "--http0.9");
        Assert.Contains($"{AddressOf(bridged)}:81", netstat.Stdout);
        Assert.Contains("192.168.65.254:", netstat.Stdout);

        // The guest's FORWARD chain: policy DROP, and the Usernet link's ACCEPT below Docker's isolation.
        var chain = ProcessRunner.Check(ProcessRunner.Run("nsenter", ["-t", Docker.GuestInit().ToString(), "-n", "iptables", "-w", "-S", "FORWARD"],
            TimeSpan.FromSeconds(30))).Split('\n').ToList();
        Assert.Equal("-P FORWARD DROP", chain[0]);
        int isolation = chain.IndexOf("-A FORWARD -j DOCKER-ISOLATION-STAGE-1");
        Assert.True(isolation > 0 && chain.IndexOf("-A FORWARD -i tap0 -j ACCEPT") > isolation, string.Join('\n', chain));

        // Docker's isolation between its networks stands: the bridge's container does not reach
        // the network's, which its neighbour on the network does.
        string probe = $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc -w 3 {AddressOf(first)} 80";
        Assert.Contains(first, Docker.Docker("exec", second, "sh", "-c", probe).Stdout);
        Assert.DoesNotContain(first, Docker.Docker("exec", bridged, "sh", "-c", probe).Stdout);

        // A container gone is a name gone: 04 "host unreachable", as for any name nobody knows.
        Docker.Check("rm", "-f", second);
        Assert.Contains("(4)", Curl($"http://{second}/").Stderr);
        Docker.Check("rm", "-f", first, bridged);
        Docker.Check("network", "rm", network);
    }

    [RootFact]
    public void ARemovedNetworksRouteIsGoneAndAnInternalNetworkIsNeverRouted()
    {
        string network = NewName();
        Docker.Check("network", "create", "--subnet", "10.213.7.0/24", network);
        string container = RunHttpd(network);
        Assert.True(Wait.Until(() => Curl("http://10.213.7.2/").Stdout == container + "\n", 20), Curl("http://10.213.7.2/").ToString());
        Docker.Check("rm", "-f", container);
        Docker.Check("network", "rm", network);
        // When `docker network rm` has returned, its subnet is outside: 02 "not allowed by ruleset".
        Assert.Contains("(2)", Curl("http://10.213.7.2/").Stderr);
        var ping = Ping("10.213.7.2");
        Assert.Equal(1, ping.ExitCode);
        Assert.Contains("not in the guests' networks", ping.Stderr);

        string closed = NewName();
        Docker.Check("network", "create", "--internal", "--subnet", "10.213.8.0/24", closed);
        string hidden = RunHttpd(closed);
        Assert.Contains("(2)", Curl("http://10.213.8.2/").Stderr);
        Assert.Contains("(2)", Curl($"http://{hidden}/").Stderr);
        Docker.Check("rm", "-f", hidden);
        Docker.Check("network", "rm", closed);
    }

    [RootFact]
    public void ANetworkAnotherClientMakesOnTheGuestsSocketIsRoutedFromTheDaemonsEvents()
    {
        // The guest's own socket: what the API proxy never sees, the event stream brings.
        string guestSocket = $"unix://{Path.Combine(Docker.RuntimeDirectory, "guest", "dockerd.sock")}";
        string network = NewName();
        ProcessRunner.Check(Docker.Docker("-H", guestSocket, "network", "create", "--subnet", "10.213.9.0/24", network));
        string container = RunHttpd(Docker, network, [], guestSocket);
        Assert.True(Wait.Until(() => Curl("http://10.213.9.2/").Stdout == container + "\n", 20), Curl("http://10.213.9.2/").ToString());
        Assert.True(Wait.Until(() => Curl($"http://{container}/").Stdout == container + "\n", 20));
        ProcessRunner.Check(Docker.Docker("-H", guestSocket, "rm", "-f", container));
        ProcessRunner.Check(Docker.Docker("-H", guestSocket, "network", "rm", network));
        Assert.True(Wait.Until(() => Curl("http://10.213.9.2/").Stderr.Contains("(2)", StringComparison.Ordinal), 20), Curl("http://10.213.9.2/").ToString());
    }
}
