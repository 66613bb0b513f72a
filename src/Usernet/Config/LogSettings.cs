namespace Usernet.Config;

/// <summary>The flow log's file (off unless <see cref="Flows"/> is set; the control API's stream is always there).</summary>
internal sealed class LogSettings(SettingValues values)
{
    /// <summary>"": no file.</summary>
    public string Flows { get; } = values.Get(SettingsSchema.LogFlows);

    public long FlowsMaxBytes { get; } = values.Get(SettingsSchema.LogFlowsMaxMegabytes) * 1024L * 1024;

    /// <summary>A line at each flow's start too, beside the one at its end.</summary>
    public bool FlowStarts { get; } = values.Get(SettingsSchema.LogFlowStarts);
}
