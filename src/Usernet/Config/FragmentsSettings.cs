namespace Usernet.Config;

/// <summary>IP reassembly limits: a guest must not be able to hold unbounded memory in partial datagrams.</summary>
internal sealed class FragmentsSettings(SettingValues values)
{
    public int MaxDatagrams { get; } = values.Get(SettingsSchema.FragmentsMaxDatagrams);

    public TimeSpan Timeout { get; } = values.Get(SettingsSchema.FragmentsTimeout);
}
