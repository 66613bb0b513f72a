using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// `usernet docker` with the real dockerd and the real docker CLI, all against one instance
/// (<see cref="DockerWorld"/>): ports published from the host as containers start and end,
/// Docker's error for a taken port, every kind of stream through the API proxy compared by
/// checksum, containers reaching the host and a test host through Usernet, and bad input.
/// Each test names its containers and ports uniquely.
/// </summary>
public sealed class DockerTests(DockerWorld world) : IClassFixture<DockerWorld>
{
    private UsernetDocker Docker => world.Docker;

    private string Image => world.Image;

    private static string NewName() => TestEnvironment.UniqueName("c");

    /// <summary>A container serving /www over HTTP on <paramref name="ports"/> in the container, with a 1 MiB random /www/blob.</summary>
    private string RunHttpd(string[] publish, params int[] ports)
    {
        string name = NewName();
        ProcessRunner.Check(StartHttpd(name, publish, ports));
        return name;
    }

    private ProcessResult StartHttpd(string name, string[] publish, int[] ports)
    {
        string servers = string.Join("; ", ports.Select(p => $"httpd -p {p} -h /www"));
        return Docker.Docker(["run", "-d", "--init", "--name", name, .. publish, Image, "sh", "-c",
            $"head -c 1048576 /dev/urandom > /www/blob && {servers} && exec sleep 1000000"]);
    }

    /// <summary>GETs a URL from the host, retrying while the container's server comes up; returns the body's SHA-256.</summary>
    private static string FetchSha256(string url)
    {
        byte[]? body = null;
        Assert.True(Wait.Until(() =>
        {
            var result = ProcessRunner.Run("sh", ["-c", $"curl -sS --fail --max-time 10 {url} | sha256sum"], TimeSpan.FromSeconds(20));
            // curl's failure shows as the hash of nothing in a pipeline: fetch again instead.
            bool ok = result.ExitCode == 0 && !result.Stdout.StartsWith("e3b0c44298fc", StringComparison.Ordinal) && result.Stderr.Length == 0;
            body = ok ? Encoding.ASCII.GetBytes(result.Stdout[..64]) : null;
            return ok;
        }, 20), $"GET {url} did not succeed");
        return Encoding.ASCII.GetString(body!);
    }

    private string ContainerSha256(string name, string path) => Docker.Check("exec", name, "sha256sum", path)[..64];

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    [RootFact]
    public void ALoopbackPublishedPortServesTheContainersFileOnTheHost()
    {
        int port = Ports.Free();
        string name = RunHttpd(["-p", $"127.0.0.1:{port}:80"], 80);
        Assert.Equal(ContainerSha256(name, "/www/blob"), FetchSha256($"http://127.0.0.1:{port}/blob"));
        var publish = Assert.Single(Docker.PublishedOn(port));
        Assert.Equal(name, publish.GetProperty("container").GetString());
        Assert.Equal($"127.0.0.1:{port}", Assert.Single(publish.GetProperty("host").EnumerateArray()).GetString());
        string table = ProcessRunner.Check(ProcessRunner.Run(TestEnvironment.UsernetBinary, "port", "ls", "--instance", Docker.Name));
        Assert.Contains(table.Split('\n'), line => line.StartsWith($"127.0.0.1:{port} ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(name, StringComparison.Ordinal));
    }

    [RootFact]
    public void AnIpv6LoopbackBindingReachesTheContainer()
    {
        int port = Ports.Free();
        string name = RunHttpd(["-p", $"[::1]:{port}:80"], 80);
        Assert.Equal(ContainerSha256(name, "/www/blob"), FetchSha256($"http://[::1]:{port}/blob"));
        Assert.Equal($"[::1]:{port}", Assert.Single(Assert.Single(Docker.PublishedOn(port)).GetProperty("host").EnumerateArray()).GetString());
    }

    [RootFact]
    public void TheApiSocketIsTheUsersAndTheUsernetContextPointsAtIt()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Docker.Socket));
        var configOnly = new Dictionary<string, string> { ["DOCKER_CONFIG"] = Docker.Environment["DOCKER_CONFIG"] };
        string endpoint = ProcessRunner.Check(ProcessRunner.Run("docker",
            ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}", "usernet"], TimeSpan.FromSeconds(30), environment: configOnly));
        Assert.Equal($"unix://{Docker.Socket}", endpoint.Trim());
        Assert.Contains("Server:", ProcessRunner.Check(ProcessRunner.Run("docker", ["--context", "usernet", "version"], TimeSpan.FromSeconds(30),
            environment: configOnly)));
    }

    /// <summary>
    /// <see cref="RunHttpd"/> for ports the daemon picks. dockerd 20.10 picks them from the
    /// kernel's ephemeral range (from 32768) without asking the host, where another test's client
    /// socket may hold that number for a moment; Usernet then refuses the start as Docker would
    /// ("port is already allocated", see ATakenHostPortGivesDockersErrorAndLeavesNothingPublished),
    /// and the daemon's next pick is the next number. At most three tries, each with a new container.
    /// </summary>
    private string RunHttpdOnPickedPorts(string[] publish, params int[] ports)
    {
        for (int attempt = 1; ; attempt++)
        {
            string name = NewName();
            var run = StartHttpd(name, publish, ports);
            if (run.ExitCode == 0)
            {
                return name;
            }
            Docker.Docker("rm", "-f", name);
            Assert.True(attempt < 3 && run.Stderr.Contains("port is already allocated"), run.ToString());
        }
    }

    [RootFact]
    public void PortsTheDaemonPicksArePublishedOnTheSameNumbers()
    {
        // -P for the exposed port 80, and -p 81 (no host port): the daemon picks both.
        string name = RunHttpdOnPickedPorts(["-P", "--expose", "80", "-p", "81"], 80, 81);
        foreach (int containerPort in new[] { 80, 81 })
        {
            string mapping = Docker.Check("port", name, $"{containerPort}/tcp").Split('\n')[0];
            int hostPort = int.Parse(mapping[(mapping.LastIndexOf(':') + 1)..]);
            Assert.Equal(ContainerSha256(name, "/www/blob"), FetchSha256($"http://127.0.0.1:{hostPort}/blob"));
            Assert.Equal(name, Assert.Single(Docker.PublishedOn(hostPort)).GetProperty("container").GetString());
        }
    }

    [RootFact]
    public void AUdpPortEchoesThroughUsernet()
    {
        int port = Ports.Free();
        string name = NewName();
        Docker.Check("run", "-d", "--init", "--name", name, "-p", $"127.0.0.1:{port}:81/udp", Image,
            "socat", "UDP-LISTEN:81,fork,reuseaddr", "PIPE");
        string token = Guid.NewGuid().ToString("N");
        string? echoed = null;
        Assert.True(Wait.Until(() =>
        {
            // The runner reads output by lines: the echo comes back with a line end.
            echoed = ProcessRunner.Run("socat", ["-T", "2", "-", $"UDP:127.0.0.1:{port}"], TimeSpan.FromSeconds(10), stdin: token).Stdout.TrimEnd('\n');
            return echoed == token;
        }, 20), $"no echo of {token} through UDP port {port}: '{echoed}'");
        Assert.Equal("udp", Assert.Single(Docker.PublishedOn(port)).GetProperty("protocol").GetString());
    }

    [RootFact]
    public void ARangeOfPortsIsPublishedPortByPort()
    {
        int first = Ports.FreeRange(3);
        string name = RunHttpd(["-p", $"{first}-{first + 2}:80-82"], 80, 81, 82);
        string sha = ContainerSha256(name, "/www/blob");
        for (int port = first; port <= first + 2; port++)
        {
            Assert.Equal(sha, FetchSha256($"http://127.0.0.1:{port}/blob"));
            Assert.Single(Docker.PublishedOn(port));
        }
    }

    [RootFact]
    public void ATakenHostPortGivesDockersErrorAndLeavesNothingPublished()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Any, 0));
        holder.Listen();
        int taken = ((IPEndPoint)holder.LocalEndPoint!).Port;
        int free = Ports.Free();
        string name = NewName();
        var result = Docker.Docker("run", "-d", "--name", name, "-p", $"{free}:80", "-p", $"{taken}:81", Image, "httpd", "-f", "-p", "80");
        Assert.Equal(125, result.ExitCode);
        Assert.Contains($"driver failed programming external connectivity on endpoint {name} (", result.Stderr);
        Assert.Contains($"Bind for 0.0.0.0:{taken} failed: port is already allocated", result.Stderr);
        Assert.Contains($"(pid {Environment.ProcessId})", result.Stderr);
        Assert.Empty(Docker.PublishedOn(free));
        Assert.Empty(Docker.PublishedOn(taken));
        Assert.False(Ports.Accepts(free), $"port {free} of the refused container is still published");
        Assert.Equal("false", Docker.Check("inspect", "--format", "{{.State.Running}}", name).Trim());
    }

    [RootFact]
    public void ABindingUsernetCannotPublishIsRefusedWithTheReason()
    {
        var result = Docker.Docker("run", "-d", "--name", NewName(), "-p", $"{Ports.Free()}:80/sctp", Image, "true");
        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.Stderr.Contains("Usernet publishes TCP and UDP ports only", StringComparison.Ordinal), result.ToString());
    }

    [RootFact]
    public void StoppingAContainerUnpublishesItsPortsBeforeDockerStopReturns()
    {
        int port = Ports.Free();
        string name = RunHttpd(["-p", $"{port}:80"], 80);
        FetchSha256($"http://127.0.0.1:{port}/blob");
        Docker.Check("stop", "-t", "5", name);
        Assert.Empty(Docker.PublishedOn(port));
        Assert.False(Ports.Accepts(port));
        // Started again, by the API: published again.
        Docker.Check("start", name);
        FetchSha256($"http://127.0.0.1:{port}/blob");
        Docker.Check("rm", "-f", name);
        Assert.Empty(Docker.PublishedOn(port));
    }

    [RootFact]
    public void AContainerThatExitsByItselfIsUnpublished()
    {
        int port = Ports.Free();
        string name = NewName();
        Docker.Check("run", "-d", "--name", name, "-p", $"{port}:80", Image, "sh", "-c", "httpd -p 80 -h /www && sleep 3");
        Assert.Single(Docker.PublishedOn(port));
        Assert.True(Wait.Until(() => Docker.PublishedOn(port).Count == 0, 30), "the port stayed published after the container exited");
        Assert.False(Ports.Accepts(port));
    }

    [RootFact]
    public void AContainerStartedBehindTheProxysBackIsPublishedFromTheDaemonsEvents()
    {
        // Another client of the guest's own socket: the API proxy sees none of it.
        string guestSocket = $"unix://{Path.Combine(Docker.RuntimeDirectory, "guest", "dockerd.sock")}";
        int port = Ports.Free();
        string name = NewName();
        ProcessRunner.Check(ProcessRunner.Run("docker",
            ["-H", guestSocket, "run", "-d", "--init", "--name", name, "-p", $"{port}:80", Image, "httpd", "-f", "-p", "80", "-h", "/"],
            TimeSpan.FromSeconds(60), environment: Docker.Environment));
        Assert.True(Wait.Until(() => Docker.PublishedOn(port).Count == 1, 30), "the container's port was not published from the events");
        Assert.True(Wait.Until(() => Ports.Accepts(port), 10));
        ProcessRunner.Check(ProcessRunner.Run("docker", ["-H", guestSocket, "stop", "-t", "5", name], TimeSpan.FromSeconds(60), environment: Docker.Environment));
        Assert.True(Wait.Until(() => Docker.PublishedOn(port).Count == 0, 30), "the port stayed published after the container stopped");
    }

    [RootFact]
    public void DockerRunWithATerminalCarriesWhatIsTyped() => AssertTerminalCarriesALine($"docker run -it --rm {Image}");

    [RootFact]
    public void DockerExecWithATerminalCarriesWhatIsTyped()
    {
        string name = NewName();
        Docker.Check("run", "-d", "--init", "--name", name, Image, "sleep", "1000000");
        AssertTerminalCarriesALine($"docker exec -it {name}");
    }

    /// <summary>
    /// Under a pseudo-terminal (script), <paramref name="docker"/> runs a shell that reads a line
    /// and prints its SHA-256: what was typed went in and what the container said came out.
    /// </summary>
    private void AssertTerminalCarriesALine(string docker)
    {
        string token = Guid.NewGuid().ToString("N");
        string command = $"{docker} sh -c 'read line; printf %s \"$line\" | sha256sum'";
        var result = ProcessRunner.Run("script", ["-qec", command, "/dev/null"], TimeSpan.FromSeconds(60), stdin: token + "\n",
            environment: Docker.Environment);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(Sha256(token), result.Stdout);
    }

    [RootFact]
    public void DockerLogsFollowsTheWholeStream()
    {
        string name = NewName();
        Docker.Check("run", "-d", "--name", name, Image, "sh", "-c",
            "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); [ $i = 2500 ] && sleep 1; done; sleep 1");
        string logs = Docker.Check("logs", "-f", name);
        string expected = string.Concat(Enumerable.Range(0, 5000).Select(i => $"line{i}\n"));
        Assert.Equal(Sha256(expected), Sha256(logs));
    }

    [RootFact]
    public void DockerCpCopiesBothWays()
    {
        using var blob = new Blob(20 << 20);
        string name = NewName();
        Docker.Check("run", "-d", "--init", "--name", name, Image, "sleep", "1000000");
        Docker.Check("cp", blob.Path, $"{name}:/tmp/blob");
        Assert.Equal(blob.Sha256, ContainerSha256(name, "/tmp/blob"));
        Docker.Check("cp", $"{name}:/tmp/blob", blob.ReceivedPath);
        Assert.Equal(blob.Sha256, Blob.Sha256Of(blob.ReceivedPath));
    }

    [RootFact]
    public void DockerBuildTakesA100MiBContext()
    {
        string context = Directory.CreateTempSubdirectory("usernet-docker-build-").FullName;
        try
        {
            ProcessRunner.Check(ProcessRunner.Shell($"head -c {100 << 20} /dev/urandom > {context}/big", TimeSpan.FromSeconds(60)));
            File.WriteAllText(Path.Combine(context, "Dockerfile"), $"FROM {Image}\nCOPY big /big\n");
            string tag = $"usernet-test-build:{NewName()}";
            ProcessRunner.Check(Docker.Docker(TimeSpan.FromMinutes(5), "build", "-q", "-t", tag, context));
            Assert.Equal(Blob.Sha256Of(Path.Combine(context, "big")), Docker.Check("run", "--rm", tag, "sha256sum", "/big")[..64]);
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    [RootFact]
    public void DockerSaveAndLoadCarryA200MiBImage()
    {
        string directory = Directory.CreateTempSubdirectory("usernet-docker-save-").FullName;
        try
        {
            string tar = Path.Combine(directory, "rootfs.tar");
            string big = Path.Combine(directory, "big");
            File.Copy(DockerImage.RootfsTar, tar);
            ProcessRunner.Check(ProcessRunner.Shell($"head -c {200 << 20} /dev/urandom > {big} && tar -C {directory} -rf {tar} big", TimeSpan.FromSeconds(60)));
            string sha = Blob.Sha256Of(big);
            string tag = $"usernet-test-save:{NewName()}";
            ProcessRunner.Check(Docker.Docker(TimeSpan.FromMinutes(5), "import", tar, tag));
            string saved = Path.Combine(directory, "saved.tar");
            ProcessRunner.Check(Docker.Docker(TimeSpan.FromMinutes(5), "save", "-o", saved, tag));
            Assert.True(new FileInfo(saved).Length > 200 << 20);
            Docker.Check("rmi", tag);
            ProcessRunner.Check(Docker.Docker(TimeSpan.FromMinutes(5), "load", "-i", saved));
            Assert.Equal(sha, Docker.Check("run", "--rm", tag, "sha256sum", "/big")[..64]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [RootFact]
    public async Task AContainerReachesTheHostAsHostDockerInternal()
    {
        using var blob = new Blob(1 << 20);
        using var listener = new LoopbackListener();
        var served = ServeBlobOnce(listener, blob);
        string output = Docker.Check("run", "--rm", Image, "sh", "-c", $"wget -q -O - http://host.docker.internal:{listener.Port}/ | sha256sum");
        await served;
        Assert.Equal(blob.Sha256, output[..64]);
    }

    [RootFact]
    public void AContainerReachesATestHostThroughUsernet()
    {
        using var host = TestHost.Create();
        using var blob = new Blob(1 << 20);
        string directory = Path.GetDirectoryName(blob.Path)!;
        using var server = host.Start("busybox", "httpd", "-f", "-p", $"{host.Address}:8080", "-h", directory);
        string url = $"http://{host.Address}:8080/{Path.GetFileName(blob.Path)}";
        string output = Docker.Check("run", "--rm", Image, "sh", "-c",
            $"for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /tmp/got {url} && break; sleep 1; done; sha256sum /tmp/got");
        Assert.Equal(blob.Sha256, output[..64]);
    }

    /// <summary>A host server on loopback that answers one GET with <paramref name="blob"/>'s bytes.</summary>
    private static Task ServeBlobOnce(LoopbackListener listener, Blob blob) => listener.ServeOne(async client =>
    {
        using var stream = client.GetStream();
        // The request's head, to its empty line; wget sends no body.
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
        {
        }
        byte[] body = await File.ReadAllBytesAsync(blob.Path);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        await stream.WriteAsync(body);
    });

    [RootFact]
    public async Task HostGatewayInAddHostIsUsernetsHostAddress()
    {
        using var blob = new Blob(1 << 20);
        using var listener = new LoopbackListener();
        var served = ServeBlobOnce(listener, blob);
        // A name only --add-host knows: the gateway's DNS does not, so the address is host-gateway's.
        string output = Docker.Check("run", "--rm", "--add-host=gw.usernet.test:host-gateway", Image, "sh", "-c",
            $"grep gw.usernet.test /etc/hosts && wget -q -O - http://gw.usernet.test:{listener.Port}/ | sha256sum");
        await served;
        Assert.Contains("192.168.65.254\tgw.usernet.test", output);
        Assert.Contains(blob.Sha256, output);
    }

    [RootFact]
    public async Task AContainerOnAUserDefinedNetworkResolvesThroughDockersDnsAndTheGateway()
    {
        string network = TestEnvironment.UniqueName("n");
        Docker.Check("network", "create", network);
        try
        {
            using var blob = new Blob(1 << 20);
            using var listener = new LoopbackListener();
            var served = ServeBlobOnce(listener, blob);
            // Docker's embedded DNS (127.0.0.11) answers there, and forwards what it does not know to the gateway.
            string output = Docker.Check("run", "--rm", "--network", network, Image, "sh", "-c",
                $"cat /etc/resolv.conf && nslookup host.docker.internal && wget -q -O - http://host.docker.internal:{listener.Port}/ | sha256sum");
            await served;
            Assert.Contains("nameserver 127.0.0.11", output);
            Assert.Contains("192.168.65.254", output);
            Assert.Contains(blob.Sha256, output);
        }
        finally
        {
            Docker.Docker("network", "rm", network);
        }
    }

    [RootFact]
    public void AContainerUsesTheInternalProxyAtHttpDockerInternal()
    {
        using var host = TestHost.Create();
        using var blob = new Blob(1 << 20);
        string directory = Path.GetDirectoryName(blob.Path)!;
        using var server = host.Start("busybox", "httpd", "-f", "-p", $"{host.Address}:8080", "-h", directory);
        string url = $"http://{host.Address}:8080/{Path.GetFileName(blob.Path)}";
        long before = UsernetStats.Read(Docker.Name).GetProperty("proxy").GetProperty("requests").GetInt64();
        string output = Docker.Check("run", "--rm", "-e", "http_proxy=http://http.docker.internal:3128", Image, "sh", "-c",
            $"for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /tmp/got {url} && break; sleep 1; done; sha256sum /tmp/got");
        Assert.Equal(blob.Sha256, output[..64]);
        Assert.True(UsernetStats.Read(Docker.Name).GetProperty("proxy").GetProperty("requests").GetInt64() > before,
            "the request did not go through Usernet's proxy");
    }

    [RootTheory]
    [InlineData("GET /_ping HTTP/1.1\r\nHost: docker\r\nBad Header\r\n\r\n", "header line 2 is not NAME: VALUE")]
    [InlineData("NOT HTTP AT ALL\r\n\r\n", "the request line is not METHOD TARGET HTTP-VERSION")]
    [InlineData("GET /_ping HTTP/2.0\r\nHost: docker\r\n\r\n", "the version is not HTTP/1.1 or HTTP/1.0")]
    [InlineData("POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "Content-Length fields disagree")]
    public void AMalformedApiRequestGetsDockersKindOf400AndTheProxyGoesOn(string request, string why)
    {
        using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            client.Connect(new UnixDomainSocketEndPoint(Docker.Socket));
            client.Send(Encoding.ASCII.GetBytes(request));
            using var stream = new NetworkStream(client);
            string answer = new StreamReader(stream).ReadToEnd();
            Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
            Assert.Contains("Content-Type: application/json\r\n", answer);
            Assert.EndsWith($"{{\"message\":\"malformed request: {why}\"}}\n", answer);
        }
        Assert.Contains("Server:", Docker.Check("version"));
    }
}
