using Usernet.Platform;

namespace Usernet.Config;

/// <summary>What Usernet keeps of its privileges once set up (see <see cref="Confinement"/>).</summary>
internal sealed class SecuritySettings(SettingValues values)
{
    /// <summary>The capabilities kept, of those the process has; every other one is dropped.</summary>
    public CapabilitySet Capabilities { get; } = CapabilitySet.Of([.. values.Get(SettingsSchema.SecurityCapabilities)]);

    /// <summary>Whether the system calls are filtered, or only those outside the filter logged.</summary>
    public SeccompMode Seccomp { get; } = values.Get(SettingsSchema.SecuritySeccomp);
}
