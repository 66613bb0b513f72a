using Usernet.Config;
using Usernet.Stack.Egress;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

/// <summary>egress.default, egress.rules and egress.tcpRefusal: the issue's JSON shape, errors naming the field, and admin locks.</summary>
public sealed class EgressSettingsTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void TheIssuesShapeLoads()
    {
        _files.User("""{"egress": {"default": "deny", "rules": [{"action": "allow", "to": "*.example.com", "ports": "443,8000-9000", "protocols": ["tcp"]}]}}""");
        var egress = _files.Settings().Egress;
        Assert.Equal(EgressAction.Deny, egress.Default);
        var rule = Assert.Single(egress.Rules);
        Assert.Equal(EgressAction.Allow, rule.Action);
        Assert.Equal(EgressTargetKind.Subdomains, rule.Kind);
        Assert.Equal("example.com", rule.Domain);
        Assert.Equal([((ushort)443, (ushort)443), ((ushort)8000, (ushort)9000)], rule.Ports);
        Assert.Equal(EgressProtocols.Tcp, rule.Protocols);
        Assert.Equal("allow *.example.com ports 443,8000-9000 tcp", rule.ToString());
        Assert.False(rule.Admin);
    }

    [Fact]
    public void TheDefaultsAllowEverything()
    {
        var egress = Settings.CreateDefault().Egress;
        Assert.Equal(EgressAction.Allow, egress.Default);
        Assert.Empty(egress.Rules);
        Assert.Equal(EgressTcpRefusal.Rst, egress.TcpRefusal);
        Assert.True(egress.Compile().AllowsAll);
    }

    [Theory]
    [InlineData("10.1.2.0/24", "Network", "10.1.2.0/24")]
    [InlineData("10.1.2.3", "Network", "10.1.2.3/32")]
    [InlineData("2001:db8::/32", "Network", "2001:db8::/32")]
    [InlineData("2001:db8::1", "Network", "2001:db8::1/128")]
    [InlineData("host", "Host", "host")]
    [InlineData("Example.COM.", "Domain", "example.com")]
    [InlineData("*.api.test.internal", "Subdomains", "*.api.test.internal")]
    public void EveryKindOfDestinationParses(string to, string kindName, string canonical)
    {
        var kind = Enum.Parse<EgressTargetKind>(kindName);
        var rule = Assert.Single(_files.Settings(Set("egress.rules", $$"""[{"action": "deny", "to": "{{to}}"}]""")).Egress.Rules);
        Assert.Equal(kind, rule.Kind);
        Assert.Equal(canonical, rule.To);
        Assert.Equal(EgressProtocols.All, rule.Protocols);
        Assert.Empty(rule.Ports);
    }

    [Theory]
    [InlineData("""[{"action": "allow", "to": "host", "protocols": ["sctp"]}]""", "egress.rules[0].protocols: \"sctp\" is not tcp, udp or icmp")]
    [InlineData("""[{"action": "allow", "to": "host"}, {"action": "deny", "to": "10.0.0.0/33"}]""", "egress.rules[1].to: \"10.0.0.0/33\" is not a CIDR")]
    [InlineData("""[{"action": "allow", "to": "host"}, {"action": "allow", "to": "host"}, {"action": "allow", "to": "host", "ports": "70000"}]""", "egress.rules[2].ports: \"70000\" is not a port")]
    [InlineData("""[{"action": "allow", "to": "*.*.example.com"}]""", "egress.rules[0].to: \"*.*.example.com\" is not a domain pattern")]
    [InlineData("""[{"action": "allow", "to": "foo*.example.com"}]""", "egress.rules[0].to: \"foo*.example.com\" is not a domain pattern")]
    [InlineData("""[{"action": "allow", "to": "10.0.0.1/8"}]""", "egress.rules[0].to: \"10.0.0.1/8\" has host bits set; the network is 10.0.0.0/8")]
    [InlineData("""[{"action": "permit", "to": "host"}]""", "egress.rules[0].action: expected \"allow\" or \"deny\"")]
    [InlineData("""[{"action": "allow"}]""", "egress.rules[0].to: expected a CIDR")]
    [InlineData("""[{"action": "allow", "to": "host", "port": "80"}]""", "egress.rules[0]: unknown field \"port\"")]
    [InlineData("""[{"action": "allow", "to": "host", "ports": "443", "protocols": ["icmp"]}]""", "egress.rules[0].ports: ICMP has no ports")]
    [InlineData("""[{"action": "allow", "to": "host", "ports": ""}]""", "egress.rules[0].ports: expected ports")]
    [InlineData("""[{"action": "allow", "to": "host", "protocols": []}]""", "egress.rules[0].protocols: expected a list")]
    [InlineData("""{"action": "allow", "to": "host"}""", "egress.rules: expected a list of rules")]
    public void BadRulesAreRefusedNamingTheField(string rules, string expected)
    {
        _files.User("{\"egress\": {\"rules\": " + rules + "}}");
        string error = Assert.Single(_files.Errors());
        Assert.StartsWith($"{_files.UserPath}: {expected}", error);
    }

    [Fact]
    public void AFlagGivesTheRulesAsJsonText()
    {
        var settings = _files.Settings(Set("egress.rules", """[{"action": "allow", "to": "198.18.0.0/15", "ports": 8080, "protocols": "tcp,udp"}]"""));
        var rule = Assert.Single(settings.Egress.Rules);
        Assert.Equal("allow 198.18.0.0/15 ports 8080 tcp,udp", rule.ToString());
        Assert.Equal("""[{"action":"allow","to":"198.18.0.0/15","ports":"8080","protocols":["tcp","udp"]}]""",
            SettingsSchema.EgressRules.Format(settings.Egress.Rules));
        Assert.Contains("--set egress.rules=x: egress.rules: expected a list of rules", Assert.Single(_files.Errors(Set("egress.rules", "x"))));
    }

    [Fact]
    public void LockedAdminRulesComeFirstAndTheUsersFollow()
    {
        _files.Admin("""{"egress": {"rules": {"locked": true, "value": [{"action": "deny", "to": "198.18.5.0/24"}]}}}""");
        _files.User("""{"egress": {"rules": [{"action": "allow", "to": "198.18.0.0/15"}, {"action": "deny", "to": "host"}]}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var rules = result.Settings.Egress.Rules;
        Assert.Equal(["deny 198.18.5.0/24 (admin)", "allow 198.18.0.0/15", "deny host"], rules.Select(r => r.ToString()));
        var source = result.Settings.SourceOf(SettingsSchema.EgressRules);
        Assert.True(source.Locked);
        Assert.Equal($"admin, locked: {_files.AdminPath}, then file {_files.UserPath}", source.ToString());

        // The admin's deny is tried first: the user's wider allow cannot undo it.
        var policy = result.Settings.Egress.Compile();
        Assert.Equal(new EgressDecision(false, 0), policy.Match(EgressProtocols.Tcp, Usernet.Wire.IpAddress.Parse("198.18.5.7"), 80, false, null, null, default));
        Assert.Equal(new EgressDecision(true, 1), policy.Match(EgressProtocols.Tcp, Usernet.Wire.IpAddress.Parse("198.18.6.7"), 80, false, null, null, default));

        string text = SettingsPrinter.ToText(result.Settings);
        Assert.Contains("    [0] deny 198.18.5.0/24    (admin, locked: tried before every user rule)\n", text);
        Assert.Contains("    [1] allow 198.18.0.0/15    (user)\n", text);
        Assert.Contains("    then egress.default: allow\n", text);

        // A flag adds to a locked list too, instead of being refused as under other locks.
        var flagged = _files.Settings(Set("egress.rules", """[{"action": "deny", "to": "10.0.0.0/8"}]"""));
        Assert.Equal(["deny 198.18.5.0/24 (admin)", "deny 10.0.0.0/8"], flagged.Egress.Rules.Select(r => r.ToString()));
    }

    [Fact]
    public void UnderALockedDenyDefaultTheUsersAllowRulesAreIgnored()
    {
        _files.Admin("""{"egress": {"default": {"locked": true, "value": "deny"}, "rules": {"locked": true, "value": [{"action": "allow", "to": "198.18.1.1", "ports": "443", "protocols": ["tcp"]}]}}}""");
        _files.User("""{"egress": {"default": "allow", "rules": [{"action": "allow", "to": "0.0.0.0/0"}, {"action": "deny", "to": "198.18.1.1", "ports": "22"}]}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(EgressAction.Deny, result.Settings.Egress.Default);
        Assert.Equal(["allow 198.18.1.1/32 ports 443 tcp (admin)", "deny 198.18.1.1/32 ports 22"], result.Settings.Egress.Rules.Select(r => r.ToString()));
        Assert.Contains(result.Warnings, w => w.Message.Contains("egress.rules: 1 allow rule(s) ignored: the administrator locked egress.default to deny", StringComparison.Ordinal));
        Assert.Contains("(locked deny: user allow rules are ignored)", SettingsPrinter.ToText(result.Settings));

        var policy = result.Settings.Egress.Compile();
        Assert.False(policy.Match(EgressProtocols.Tcp, Usernet.Wire.IpAddress.Parse("198.18.2.2"), 80, false, null, null, default).Allowed);
        Assert.True(policy.Match(EgressProtocols.Tcp, Usernet.Wire.IpAddress.Parse("198.18.1.1"), 443, false, null, null, default).Allowed);
    }

    [Fact]
    public void AnUnlockedAdminListIsADefaultTheUserReplaces()
    {
        _files.Admin("""{"egress": {"rules": [{"action": "deny", "to": "host"}]}}""");
        Assert.Equal(["deny host"], _files.Settings().Egress.Rules.Select(r => r.ToString()));
        _files.User("""{"egress": {"rules": [{"action": "deny", "to": "10.0.0.0/8"}]}}""");
        Assert.Equal(["deny 10.0.0.0/8"], _files.Settings().Egress.Rules.Select(r => r.ToString()));
    }

    [Fact]
    public void ALockedSectionLocksTheDefaultAndTheRefusal()
    {
        _files.Admin("""{"egress": {"locked": true, "value": {"default": "deny", "tcpRefusal": "icmp"}}}""");
        var errors = _files.Errors(Set("egress.default", "allow"));
        Assert.Contains("egress.default is locked by the administrator", Assert.Single(errors));
        var settings = _files.Settings();
        Assert.Equal(EgressTcpRefusal.Icmp, settings.Egress.TcpRefusal);
        Assert.Empty(settings.Egress.Rules);
        Assert.True(settings.SourceOf(SettingsSchema.EgressRules).Locked);
    }
}
