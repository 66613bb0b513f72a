namespace Usernet.Config;

/// <summary>Settings that did not load; <see cref="Errors"/> holds every problem found, not just the first.</summary>
internal sealed class SettingsException(IReadOnlyList<SettingsError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<SettingsError> Errors { get; } = errors;
}
