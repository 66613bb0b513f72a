namespace Usernet.Config;

/// <summary>Published ports: host listeners that open flows into the guest.</summary>
internal sealed class PortsSettings(SettingValues values)
{
    /// <summary>portBindingBehavior.</summary>
    public PortBindingBehavior BindingBehavior { get; } = values.Get(SettingsSchema.PortBindingBehavior);

    /// <summary>The guest sees the real client address rather than the gateway's.</summary>
    public bool PreserveClientAddress { get; } = values.Get(SettingsSchema.PreserveClientAddress);

    /// <summary>Publish specs as written; the port forwarder parses them.</summary>
    public IReadOnlyList<string> Publish { get; } = values.Get(SettingsSchema.Publish);
}
