using System.Diagnostics.CodeAnalysis;

namespace Usernet.Config;

/// <summary>
/// Settings, or every error that kept them from loading; warnings either way (a settings.json
/// value that an admin lock overrides).
/// </summary>
internal sealed record SettingsLoadResult(Settings? Settings, IReadOnlyList<SettingsError> Errors, IReadOnlyList<SettingsError> Warnings)
{
    [MemberNotNullWhen(true, nameof(Settings))]
    public bool Succeeded => Settings is not null;

    public Settings GetOrThrow() => Settings ?? throw new SettingsException(Errors);
}
