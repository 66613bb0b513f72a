using Usernet.Services.Docker;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.Services.Docker;

/// <summary>
/// What the guest does before it becomes dockerd, by daemon.json: forwarding on, the FORWARD
/// policy DROP and one ACCEPT for the Usernet link, unless the administrator took them over.
/// The end-to-end DockerSocksTests see the chain dockerd builds above it.
/// </summary>
public sealed class GuestForwardingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("usernet-forwarding-").FullName;
    private readonly DockerDataRoot _dataRoot;

    public GuestForwardingTests()
    {
        _dataRoot = DockerDataRoot.Open(Path.Combine(_directory, "data"));
        _dataRoot.EnsureDaemonJson();
    }

    public void Dispose()
    {
        _dataRoot.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string Script(string daemonJson, bool ipv6 = true)
    {
        File.WriteAllText(_dataRoot.DaemonJson, daemonJson);
        string script = GuestForwarding.Script("tap0", ipv6, _dataRoot);
        // It runs in dockerd's shell: it must at least parse there.
        var syntax = ProcessRunner.Run("/bin/sh", ["-n", "-c", script], TimeSpan.FromSeconds(10));
        Assert.True(syntax.ExitCode == 0, syntax.ToString());
        return script;
    }

    [Fact]
    public void ByDefaultForwardingIsOnAndOnlyTheLinkIsAcceptedBelowDockersRules()
    {
        string script = Script("{}");
        Assert.Contains("echo 1 >/proc/sys/net/ipv4/ip_forward\n", script);
        Assert.Contains("iptables -w -P FORWARD DROP && iptables -w -A FORWARD -i tap0 -j ACCEPT", script);
        Assert.Contains("echo 2 >/proc/sys/net/ipv6/conf/tap0/accept_ra\necho 1 >/proc/sys/net/ipv6/conf/all/forwarding\n", script);
        Assert.Contains("ip6tables -w -A FORWARD -i tap0 -j ACCEPT", script);
        // dockerd 20.10 filters no IPv6 forwarding unless it manages ip6tables: neither does Usernet.
        Assert.DoesNotContain("ip6tables -w -P", script);
    }

    [Fact]
    public void WhereDockerdManagesIp6tablesItsPolicyIsDropToo() =>
        Assert.Contains("ip6tables -w -P FORWARD DROP && ip6tables -w -A FORWARD -i tap0 -j ACCEPT", Script("""{"ip6tables": true, "experimental": true}"""));

    [Fact]
    public void WithoutIpv6OnlyIpv4IsForwarded()
    {
        string script = Script("{}", ipv6: false);
        Assert.DoesNotContain("ipv6", script);
        Assert.DoesNotContain("ip6tables", script);
    }

    [Fact]
    public void WhatDaemonJsonTurnsOffIsLeftAlone()
    {
        string noRules = Script("""{"iptables": false}""", ipv6: false);
        Assert.Equal("echo 1 >/proc/sys/net/ipv4/ip_forward\n", noRules);
        Assert.Equal("", Script("""{"ip-forward": false}"""));
    }
}
