using Usernet.Stack;
using Usernet.Stack.Egress;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>
/// The egress policy: first match wins, then the default; networks of both families, the
/// host, names, ports and protocols; applied to new TCP, UDP and echo flows at the stack's
/// decision point, refused as a closed port or a filter would, and counted by rule.
/// </summary>
public sealed class EgressPolicyTests
{
    private static readonly Instant Now = Instant.FromMilliseconds(5_000);

    private static EgressRuleSpec Rule(EgressAction action, string to, string? ports = null, EgressProtocols protocols = EgressProtocols.All)
    {
        var json = $$"""[{"action": "{{(action == EgressAction.Allow ? "allow" : "deny")}}", "to": "{{to}}"{{(ports is null ? "" : $", \"ports\": \"{ports}\"")}}}]""";
        var rule = Assert.Single(Usernet.Config.Settings.Create(("egress.rules", json)).Egress.Rules);
        return rule with { Protocols = protocols };
    }

    private static EgressPolicy Policy(EgressAction fallback, params EgressRuleSpec[] rules) => new(fallback, rules, EgressTcpRefusal.Rst);

    private static EgressDecision Match(EgressPolicy policy, EgressProtocols protocol, string address, ushort port, bool isHost = false, string? name = null, EgressNameTable? names = null) =>
        policy.Match(protocol, IpAddress.Parse(address), port, isHost, name, names, Now);

    [Fact]
    public void TheFirstMatchingRuleWinsThenTheDefault()
    {
        var policy = Policy(EgressAction.Deny,
            Rule(EgressAction.Deny, "198.18.1.0/24", "22"),
            Rule(EgressAction.Allow, "198.18.0.0/15"),
            Rule(EgressAction.Allow, "2001:db8::/32", "443,8000-9000", EgressProtocols.Tcp));
        Assert.Equal(new EgressDecision(false, 0), Match(policy, EgressProtocols.Tcp, "198.18.1.5", 22));
        Assert.Equal(new EgressDecision(true, 1), Match(policy, EgressProtocols.Tcp, "198.18.1.5", 23));
        Assert.Equal(new EgressDecision(true, 1), Match(policy, EgressProtocols.Icmp, "198.19.255.255", 0));
        Assert.Equal(new EgressDecision(false, EgressDecision.DefaultRule), Match(policy, EgressProtocols.Tcp, "198.20.0.1", 80));
        Assert.Equal(new EgressDecision(true, 2), Match(policy, EgressProtocols.Tcp, "2001:db8::1", 8500));
        Assert.False(Match(policy, EgressProtocols.Udp, "2001:db8::1", 8500).Allowed);
        Assert.False(Match(policy, EgressProtocols.Tcp, "2001:db8::1", 9001).Allowed);
        Assert.False(Match(policy, EgressProtocols.Tcp, "2001:db9::1", 443).Allowed);
    }

    /// <summary>
    /// A long list is matched through its network index; the first match must still be the one
    /// reading the list in order finds, for any mix of networks of both families and of every
    /// prefix length, the host, names, ports and protocols (random lists, fixed seed).
    /// </summary>
    [Fact]
    public void TheIndexOfALongListFindsTheSameFirstMatchAsReadingItInOrder()
    {
        var random = new Random(15);
        T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];
        string V4() => $"10.{random.Next(3)}.{random.Next(3)}.{random.Next(6)}";
        string V6() => $"2001:db8:{random.Next(3)}::{random.Next(3)}";
        int compared = 0;
        for (int list = 0; list < 100; list++)
        {
            var rules = new EgressRuleSpec[random.Next(EgressPolicy.IndexThreshold, 120)];
            for (int i = 0; i < rules.Length; i++)
            {
                string to = random.Next(10) switch
                {
                    0 => "host",
                    1 => "a.test",
                    2 => "*.test",
                    3 => Pick("0.0.0.0/0", "::/0"),
                    < 7 => Pick("10.0.0.0/8", $"10.{random.Next(3)}.0.0/16", $"10.{random.Next(3)}.{random.Next(3)}.0/24",
                        $"10.{random.Next(3)}.{random.Next(3)}.{Pick(0, 4)}/30", V4()),
                    _ => Pick("2001:db8::/32", $"2001:db8:{random.Next(3)}::/48", $"2001:db8:{random.Next(3)}::/64", $"2001:db8:{random.Next(3)}::/120", V6()),
                };
                rules[i] = Rule(Pick(EgressAction.Allow, EgressAction.Deny), to, Pick(null, "80", "8000-9000", "1-100,443"),
                    (EgressProtocols)random.Next(1, 8));
            }
            var policy = Policy(Pick(EgressAction.Allow, EgressAction.Deny), rules);
            for (int flow = 0; flow < 200; flow++)
            {
                var protocol = Pick(EgressProtocols.Tcp, EgressProtocols.Udp, EgressProtocols.Icmp);
                var destination = IpAddress.Parse(random.Next(2) == 0 ? V4() : V6());
                ushort port = protocol == EgressProtocols.Icmp ? (ushort)0 : Pick<ushort>(53, 80, 443, 8500, 9001);
                bool isHost = random.Next(8) == 0;
                string? name = Pick(null, null, "a.test", "b.test", "a.other");
                Assert.Equal(policy.MatchInOrder(protocol, destination, port, isHost, name, null, Now), policy.Match(protocol, destination, port, isHost, name, null, Now));
                compared++;
            }
        }
        Assert.Equal(20_000, compared);
    }

    /// <summary>The bench's list (bench/harness/stacks.py, usernet_rules): 999 network denies with ports, then the host; matched without allocating.</summary>
    [Fact]
    public void AThousandRulesAreMatchedWithoutAllocating()
    {
        var json = new System.Text.StringBuilder("[");
        for (int i = 0; i < 999; i++)
        {
            json.Append($$"""{"action": "deny", "to": "10.{{i / 250}}.{{i % 250}}.0/24", "ports": "80,8000-9000", "protocols": ["tcp"]},""");
        }
        json.Append("""{"action": "allow", "to": "host"}]""");
        var policy = new EgressPolicy(EgressAction.Deny, Usernet.Config.Settings.Create(("egress.rules", json.ToString())).Egress.Rules, EgressTcpRefusal.Rst);
        var host = IpAddress.Parse("192.168.65.254");
        var denied = IpAddress.Parse("10.3.248.7");
        Assert.Equal(new EgressDecision(true, 999), Match(policy, EgressProtocols.Tcp, "192.168.65.254", 8080, isHost: true));
        Assert.Equal(new EgressDecision(false, 998), Match(policy, EgressProtocols.Tcp, "10.3.248.7", 8080));
        Assert.Equal(new EgressDecision(false, EgressDecision.DefaultRule), Match(policy, EgressProtocols.Udp, "10.3.248.7", 8080));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            policy.Decide(EgressProtocols.Tcp, host, 8080, true, null, null, Now);
            policy.Decide(EgressProtocols.Tcp, denied, 8080, false, null, null, Now);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void ARuleWithPortsNeverMatchesIcmpAndZeroPrefixMatchesTheWholeFamily()
    {
        var policy = Policy(EgressAction.Allow, Rule(EgressAction.Deny, "0.0.0.0/0", "1-65535"), Rule(EgressAction.Deny, "::/0"));
        Assert.True(Match(policy, EgressProtocols.Icmp, "203.0.113.1", 0).Allowed);
        Assert.False(Match(policy, EgressProtocols.Udp, "203.0.113.1", 53).Allowed);
        // An IPv4 /0 covers IPv4 only, and ::/0 IPv6 only.
        Assert.Equal(new EgressDecision(false, 1), Match(policy, EgressProtocols.Icmp, "2001:db8::1", 0));
    }

    [Fact]
    public void HostMatchesOnlyTheHostAddress()
    {
        var policy = Policy(EgressAction.Allow, Rule(EgressAction.Deny, "host", "5432"));
        Assert.False(Match(policy, EgressProtocols.Tcp, "192.168.65.254", 5432, isHost: true).Allowed);
        Assert.True(Match(policy, EgressProtocols.Tcp, "192.168.65.254", 80, isHost: true).Allowed);
        Assert.True(Match(policy, EgressProtocols.Tcp, "198.18.0.1", 5432).Allowed);
    }

    [Fact]
    public void DomainRulesMatchTheFlowsNameOrANameTheDnsServerGaveForTheAddress()
    {
        var policy = Policy(EgressAction.Deny, Rule(EgressAction.Allow, "*.test.internal", "443"), Rule(EgressAction.Allow, "exact.example"));
        Assert.True(Match(policy, EgressProtocols.Tcp, "198.18.0.9", 443, name: "API.test.internal.").Allowed);
        Assert.False(Match(policy, EgressProtocols.Tcp, "198.18.0.9", 443, name: "test.internal").Allowed);
        Assert.False(Match(policy, EgressProtocols.Tcp, "198.18.0.9", 443, name: "xtest.internal").Allowed);
        Assert.False(Match(policy, EgressProtocols.Tcp, "198.18.0.9", 443).Allowed);
        Assert.True(Match(policy, EgressProtocols.Udp, "198.18.0.9", 53, name: "exact.example").Allowed);
        Assert.False(Match(policy, EgressProtocols.Udp, "198.18.0.9", 53, name: "a.exact.example").Allowed);

        var names = new EgressNameTable();
        names.Add(IpAddress.Parse("198.18.0.9"), "api.test.internal", TimeSpan.FromSeconds(10), Now);
        Assert.Equal(new EgressDecision(true, 0), Match(policy, EgressProtocols.Tcp, "198.18.0.9", 443, names: names));
        Assert.False(Match(policy, EgressProtocols.Tcp, "198.18.0.10", 443, names: names).Allowed);
        // Past the TTL and the grace period the address is no name's any more.
        var later = Now + TimeSpan.FromSeconds(10) + EgressNameTable.Grace + TimeSpan.FromMilliseconds(1);
        Assert.False(policy.Match(EgressProtocols.Tcp, IpAddress.Parse("198.18.0.9"), 443, false, null, names, later).Allowed);
    }

    [Fact]
    public void TheNameTableIsBounded()
    {
        var names = new EgressNameTable(capacity: 4);
        for (int i = 0; i < 6; i++)
        {
            names.Add(IpAddress.Parse("198.18.1.1"), $"m{i}.example", TimeSpan.FromSeconds(60 + i), Now);
        }
        // The name that expires first made room: m0 and m1 went.
        Assert.Equal(["m4.example", "m5.example", "m2.example", "m3.example"], names.NamesOf(IpAddress.Parse("198.18.1.1"), Now));
        for (int i = 0; i < 10; i++)
        {
            names.Add(IpAddress.Parse($"198.18.0.{i}"), $"n{i}.example", TimeSpan.FromSeconds(60), Now);
        }
        Assert.Equal(4, names.Count);
        Assert.Empty(names.NamesOf(IpAddress.Parse("198.18.1.1"), Now));
        Assert.Empty(names.NamesOf(IpAddress.Parse("198.18.0.5"), Now));
        Assert.Equal(["n9.example"], names.NamesOf(IpAddress.Parse("198.18.0.9"), Now));
    }

    [Fact]
    public void MatchingAThousandRulesAllocatesNothing()
    {
        var rules = new List<EgressRuleSpec>();
        for (int i = 0; i < 996; i++)
        {
            rules.Add(Rule(EgressAction.Deny, $"10.{i / 250}.{i % 250}.0/24", "80,8000-9000", EgressProtocols.Tcp));
        }
        rules.Add(Rule(EgressAction.Deny, "*.blocked.example"));
        rules.Add(Rule(EgressAction.Deny, "host"));
        rules.Add(Rule(EgressAction.Allow, "2001:db8::/32"));
        rules.Add(Rule(EgressAction.Allow, "198.18.0.0/15", "443"));
        var policy = Policy(EgressAction.Deny, [.. rules]);
        var names = new EgressNameTable();
        names.Add(IpAddress.Parse("198.18.0.1"), "www.allowed.example", TimeSpan.FromSeconds(60), Now);
        var destination = IpAddress.Parse("198.18.0.1");
        var v6 = IpAddress.Parse("2001:db8::5");
        Assert.Equal(new EgressDecision(true, 999), policy.Decide(EgressProtocols.Tcp, destination, 443, false, null, names, Now));
        long before = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1_000; i++)
            {
                policy.Decide(EgressProtocols.Tcp, destination, (ushort)(440 + i % 8), false, null, names, Now);
                policy.Decide(EgressProtocols.Udp, v6, 53, false, "x.blocked.example", names, Now);
            }
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        // One decision before, then 2 passes of 1,000 TCP (one port in 8 allowed) and 1,000 UDP (denied by name).
        Assert.Equal(1 + 250, policy.Counters.Allowed);
        Assert.Equal(1750 + 2000, policy.Counters.Denied);
    }

    [Fact]
    public void ADeniedSynGetsResetOrAnIcmpProhibitedAndIsCountedByRule()
    {
        var harness = new TcpHarness();
        harness.Stack.Egress.Replace(Policy(EgressAction.Allow, Rule(EgressAction.Deny, "198.18.0.1", "80")), reload: false);
        var guest = new TcpGuest(harness);
        guest.Syn();
        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.Isn + 1, reset.Acknowledgment);
        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.EgressDenied));
        Assert.Equal(1, harness.Stack.Egress.Policy.Counters.ByRule(0));

        harness.Stack.Egress.Replace(new EgressPolicy(EgressAction.Allow, [Rule(EgressAction.Deny, "198.18.0.1", "80")], EgressTcpRefusal.Icmp), reload: true);
        guest.Syn();
        var icmp = NatHarness.IcmpOf(Assert.Single(harness.Sent.Take()));
        Assert.Equal(IcmpError.Prohibited(guest.Local.Address), new IcmpError(icmp.Type, icmp.Code));
        Assert.Equal(harness.Stack.Options.Gateway, icmp.Source);
        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(1, harness.Stack.Egress.Reloads);
    }

    [Fact]
    public void AnAllowedSynConnectsAsBefore()
    {
        var harness = new TcpHarness();
        harness.Stack.Egress.Replace(Policy(EgressAction.Deny, Rule(EgressAction.Allow, "198.18.0.1", "80", EgressProtocols.Tcp)), reload: false);
        new TcpGuest(harness).Connect();
        Assert.Equal(1, harness.Stack.Egress.Policy.Counters.ByRule(0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DeniedUdpAndEchoAreProhibitedAndDecidedOncePerDestination(bool v4)
    {
        var nat = new NatHarness();
        IpAddress guest = v4 ? TestFrames.Guest : NatHarness.GuestV6;
        IpAddress allowed = v4 ? IpAddress.Parse("198.18.0.1") : IpAddress.Parse("2001:db8::1");
        IpAddress denied = v4 ? IpAddress.Parse("198.18.0.2") : IpAddress.Parse("2001:db8::2");
        nat.Stack.Egress.Replace(Policy(EgressAction.Deny, Rule(EgressAction.Allow, v4 ? "198.18.0.1" : "2001:db8::1")), reload: false);
        var counters = nat.Stack.Egress.Policy.Counters;

        for (int i = 0; i < 3; i++)
        {
            Assert.Empty(nat.Answer(NatHarness.UdpFrame(new IpEndpoint(guest, 40000), new IpEndpoint(allowed, 7000), "ok"u8)));
        }
        Assert.Equal(3, Assert.Single(nat.Factory.Udp).Sends.Count);
        Assert.Equal(1, counters.ByRule(0));

        var answer = NatHarness.IcmpOf(Assert.Single(nat.Answer(NatHarness.UdpFrame(new IpEndpoint(guest, 40000), new IpEndpoint(denied, 7000), "no"u8))));
        Assert.Equal(IcmpError.Prohibited(guest), new IcmpError(answer.Type, answer.Code));
        Assert.Equal(3, Assert.Single(nat.Factory.Udp).Sends.Count);
        Assert.Equal(1, counters.DefaultDenied);
        Assert.Equal(1, nat.Counters.Dropped(DropReason.EgressDenied));

        var echo = NatHarness.IcmpOf(Assert.Single(nat.Answer(NatHarness.EchoFrame(guest, denied, id: 9, sequence: 1))));
        Assert.Equal(IcmpError.Prohibited(guest), new IcmpError(echo.Type, echo.Code));
        Assert.Empty(nat.Factory.Ping);
        nat.Answer(NatHarness.EchoFrame(guest, allowed, id: 9, sequence: 2));
        Assert.Single(Assert.Single(nat.Factory.Ping).Sends);
        Assert.Equal(2, counters.ByRule(0));
    }

    [Fact]
    public void TheGatewaysServicesAreOutsideThePolicy()
    {
        var nat = new NatHarness();
        nat.Stack.Egress.Replace(Policy(EgressAction.Deny), reload: false);
        var memo = default(EgressMemo);
        var verdict = EgressRule.Decide(nat.Stack.Options, nat.Stack.Egress.Policy, null, EgressProtocols.Udp,
            new IpEndpoint(nat.Stack.Options.Gateway, 53), null, Now, ref memo, out _);
        Assert.Equal(EgressVerdict.Gateway, verdict);
        Assert.Equal(0, nat.Stack.Egress.Policy.Counters.Denied);
    }

    [Fact]
    public void ANameIsRefusedInDnsOnlyWhenNoAddressItCouldGiveWouldBeReachable()
    {
        var names = Policy(EgressAction.Deny, Rule(EgressAction.Deny, "bad.allowed.test", "443"), Rule(EgressAction.Allow, "*.allowed.test", "443"), Rule(EgressAction.Deny, "*.blocked.test"));
        // A deny for some ports only leaves the name resolvable; the allow after it decides.
        Assert.Equal(new EgressDecision(true, 1), names.MatchName("bad.allowed.test"));
        Assert.Equal(new EgressDecision(true, 1), names.MatchName("api.allowed.test"));
        Assert.Equal(new EgressDecision(false, 2), names.MatchName("x.blocked.test"));
        // No name rule, a deny default, no rule that allows by address: nothing could be reached.
        Assert.Equal(new EgressDecision(false, EgressDecision.DefaultRule), names.MatchName("other.test"));
        Assert.Equal("egress.rules[2] (deny *.blocked.test)", names.Describe(names.MatchName("x.blocked.test")));
        Assert.Equal("egress.default deny", names.Describe(names.MatchName("other.test")));

        var mixed = Policy(EgressAction.Deny, Rule(EgressAction.Allow, "198.18.0.0/15"));
        Assert.True(mixed.MatchName("other.test").Allowed);
        Assert.True(Policy(EgressAction.Allow).MatchName("other.test").Allowed);
    }

    [Fact]
    public void ByNameTheFirstNameRuleForThePortDecides()
    {
        var policy = Policy(EgressAction.Deny, Rule(EgressAction.Allow, "*.allowed.test", "443"), Rule(EgressAction.Deny, "api.allowed.test"));
        Assert.Equal(new EgressDecision(true, 0), policy.DecideName("api.allowed.test", 443));
        Assert.Equal(new EgressDecision(false, 1), policy.DecideName("api.allowed.test", 80));
        Assert.Null(policy.DecideName("other.test", 443));
    }
}
