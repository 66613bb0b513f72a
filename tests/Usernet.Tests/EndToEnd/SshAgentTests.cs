using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The host's SSH agent in guests, through the relay: a real ssh-agent holding a generated key
/// (whose private file is then deleted), and an sshd on the host's loopback that accepts that
/// key only. From the guest of `usernet run`, a container of `usernet docker`, and a TAP guest
/// of `usernet serve` (through the opt-in gateway port), ssh-add lists the key and ssh logs in
/// at host.docker.internal (the host address, carried to the host's loopback). Without the
/// agent the same login fails, so it is the agent that lets it in.
/// </summary>
public sealed class SshAgentTests
{
    /// <summary>Where guests find the agent.</summary>
    private const string Socket = "/run/host-services/ssh-auth.sock";

    /// <summary>Lists the agent's keys, then logs in with them at <paramref name="host"/>:<paramref name="port"/>; prints ok when both work.</summary>
    private static string ListAndLogIn(string socket, string host, int port) =>
        $"SSH_AUTH_SOCK={socket} ssh-add -l && SSH_AUTH_SOCK={socket} ssh {Sshd.ClientOptions} -p {port} root@{host} true && echo login-ok";

    /// <summary>The same login with no agent: it must fail.</summary>
    private static string LogInWithoutAgent(string host, int port) =>
        $"if env -u SSH_AUTH_SOCK ssh {Sshd.ClientOptions} -p {port} root@{host} true; then echo login-without-agent; fi";

    /// <summary>What <see cref="ListAndLogIn"/> then <see cref="LogInWithoutAgent"/> print when the agent, and only the agent, let the client in.</summary>
    private static void AssertLoggedInThroughTheAgent(ProcessResult result, SshKeyAgent agent, Sshd sshd, string more = "")
    {
        Assert.True(result.ExitCode == 0, $"{result}\n{sshd}\n{more}");
        Assert.Contains($"{agent.Fingerprint} usernet-test (ED25519)", result.Stdout);
        Assert.Contains("login-ok", result.Stdout);
        Assert.DoesNotContain("login-without-agent", result.Stdout);
    }

    private static ProcessResult UsernetRun(IsolatedResolver resolver, string? agent, string commandLine) =>
        ProcessRunner.Run(resolver.Wrapper[0],
            [.. resolver.Wrapper[1..], TestEnvironment.UsernetBinary, "run", .. resolver.Settings(), "--", "sh", "-c", commandLine],
            TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = agent ?? "" });

    [RootFact]
    public void TheRunGuestUsesTheHostsAgentAtHostServices()
    {
        using var agent = SshKeyAgent.Start();
        using var sshd = Sshd.Start(agent.PublicKeyPath);
        using var resolver = new IsolatedResolver("", "127.0.0.1");
        string script = $"test -S {Socket} && {ListAndLogIn(Socket, "host.docker.internal", sshd.Port)}; " +
            LogInWithoutAgent("host.docker.internal", sshd.Port);
        var result = UsernetRun(resolver, agent.Socket, script);
        AssertLoggedInThroughTheAgent(result, agent, sshd);
    }

    [RootFact]
    public void WithoutAnAgentTheSocketIsThereAndFailsCleanlyWithOneWarning()
    {
        using var resolver = new IsolatedResolver("", "127.0.0.1");
        var result = UsernetRun(resolver, null,
            $"test -S {Socket} && echo socket-there; for i in 1 2 3; do SSH_AUTH_SOCK={Socket} ssh-add -l; echo status=$?; done");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("socket-there", result.Stdout);
        // ssh-add's words for an agent that refuses (SSH_AGENT_FAILURE), and status 1: no hang, no SIGPIPE.
        Assert.True(result.Stdout.Split('\n').Count(l => l == "status=1") == 3, result.ToString());
        Assert.Equal(3, result.Stderr.Split('\n').Count(l => l == "error fetching identities: agent refused operation"));
        Assert.Equal(1, result.Stderr.Split('\n').Count(l => l.Contains("SSH_AUTH_SOCK was not set when usernet started", StringComparison.Ordinal)));
    }

    [RootFact]
    public void AContainerUsesTheHostsAgentThroughTheBoundSocket()
    {
        using var agent = SshKeyAgent.Start();
        using var sshd = Sshd.Start(agent.PublicKeyPath);
        using var docker = UsernetDocker.Start(environment: new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = agent.Socket });
        string image = $"usernet-test:{docker.Name}";
        docker.Check("import", DockerImage.RootfsTar, image);
        var result = docker.Docker(TimeSpan.FromSeconds(90), "run", "--rm", "--mount", $"type=bind,src={Socket},target={Socket}",
            "-e", $"SSH_AUTH_SOCK={Socket}", image, "sh", "-c",
            $"{ListAndLogIn(Socket, "host.docker.internal", sshd.Port)}; {LogInWithoutAgent("host.docker.internal", sshd.Port)}");
        AssertLoggedInThroughTheAgent(result, agent, sshd, docker.ToString());
    }

    [RootFact]
    public void ServeOffersTheAgentOnTheGatewayPortItIsGiven()
    {
        using var agent = SshKeyAgent.Start();
        using var sshd = Sshd.Start(agent.PublicKeyPath);
        string tap = TestEnvironment.UniqueName("utap");
        string bridged = Path.Combine(agent.Directory, "bridged.sock");
        ServeInstance? serve = null;
        NetworkNamespace? guest = null;
        try
        {
            NetworkNamespace.Ip("tuntap", "add", "dev", tap, "mode", "tap");
            serve = ServeInstance.Start(new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = agent.Socket }, "--tap", tap, "--ssh-agent-port", "2222");
            guest = NetworkNamespace.Create("uns");
            NetworkNamespace.Ip("link", "set", tap, "netns", guest.Name);
            // As the README says: socat bridges a guest socket to the gateway's port.
            string script = $"ip link set lo up; ip link set {tap} up; ip addr add 192.168.65.3/24 dev {tap}; " +
                $"ip route add default via 192.168.65.1; " +
                $"socat UNIX-LISTEN:{bridged},fork TCP:192.168.65.1:2222 & bridge=$!; " +
                $"for i in 1 2 3 4 5 6 7 8 9 10; do [ -S {bridged} ] && break; sleep 0.2; done; " +
                $"{ListAndLogIn(bridged, "192.168.65.254", sshd.Port)}; {LogInWithoutAgent("192.168.65.254", sshd.Port)}; kill $bridge";
            var result = ProcessRunner.Run("ip", ["netns", "exec", guest.Name, "sh", "-c", script], TimeSpan.FromSeconds(60));
            AssertLoggedInThroughTheAgent(result, agent, sshd);
        }
        finally
        {
            serve?.Dispose();
            guest?.Dispose();
            ProcessRunner.Run("ip", "link", "del", tap);
        }
    }
}
