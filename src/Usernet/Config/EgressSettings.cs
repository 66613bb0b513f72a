using Usernet.Stack.Egress;

namespace Usernet.Config;

/// <summary>The egress policy: which new guest flows may leave through the host, and how refusals look.</summary>
internal sealed class EgressSettings(SettingValues values)
{
    public EgressAction Default { get; } = values.Get(SettingsSchema.EgressDefault);

    /// <summary>The effective list: a locked admin file's rules first, then the user's.</summary>
    public IReadOnlyList<EgressRuleSpec> Rules { get; } = values.Get(SettingsSchema.EgressRules);

    public EgressTcpRefusal TcpRefusal { get; } = values.Get(SettingsSchema.EgressTcpRefusal);

    public EgressDnsRefusal DnsRefusal { get; } = values.Get(SettingsSchema.EgressDnsRefusal);

    /// <summary>The compiled policy, with counters of its own.</summary>
    public EgressPolicy Compile() => new(Default, Rules, TcpRefusal, DnsRefusal);
}
