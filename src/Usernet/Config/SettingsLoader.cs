using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// Merges the sources into <see cref="Settings"/>. Precedence, lowest first: default, an
/// unlocked admin value (an admin's default), settings.json, a flag, a locked admin value.
/// A settings.json value under a lock is ignored with a warning; a flag under a lock is an
/// error, since the user asked for it just now. Loading reads nothing and changes nothing, so a
/// reload can call it again and keep the old settings when it fails.
/// </summary>
internal static class SettingsLoader
{
    /// <summary>Reads the files at <paramref name="paths"/> and the host's networks, then loads.</summary>
    public static SettingsLoadResult LoadFromSystem(SettingsPaths paths, IReadOnlyList<SettingOverride> flags) =>
        Load(SettingsInput.FromSystem(paths, flags));

    public static SettingsLoadResult Load(SettingsInput input)
    {
        var errors = new List<SettingsError>();
        var warnings = new List<SettingsError>();
        using var admin = SettingsFileReader.Read(input.Admin, admin: true, errors);
        using var user = SettingsFileReader.Read(input.User, admin: false, errors);
        var flags = ReadFlags(input.Flags, errors);
        var values = new SettingValues(input.HostNetworks);
        foreach (var definition in SettingsSchema.All)
        {
            Resolve(definition, admin, user, flags.GetValueOrDefault(definition), values, errors, warnings);
        }
        foreach (var definition in SettingsSchema.All.Where(d => !values.Failed(d)))
        {
            foreach (string problem in definition.Check(values, values.Raw(definition)))
            {
                errors.Add(SettingsError.ForValue(values.SourceOf(definition), definition.Key, problem));
            }
        }
        return new SettingsLoadResult(errors.Count == 0 ? new Settings(values) : null, errors, warnings);
    }

    /// <summary>The flags by key; a key given twice takes the later flag, as command lines do.</summary>
    private static Dictionary<SettingDefinition, SettingOverride> ReadFlags(IReadOnlyList<SettingOverride> flags, List<SettingsError> errors)
    {
        var byKey = new Dictionary<SettingDefinition, SettingOverride>();
        foreach (var flag in flags)
        {
            if (SettingsSchema.Find(flag.Key) is { } definition)
            {
                byKey[definition] = flag;
                continue;
            }
            string? suggestion = KeySuggestion.Nearest(flag.Key, SettingsSchema.Names);
            errors.Add(new SettingsError(flag.Flag, flag.Key,
                flag.Key.Length == 0 ? "expected KEY=VALUE"
                : SettingsSchema.IsSection(flag.Key) ? $"{flag.Key} is a group of settings; set one of its keys, such as {SettingsSchema.Under(flag.Key).First()}"
                : $"unknown key \"{flag.Key}\"" + (suggestion is null ? "" : $"; did you mean \"{suggestion}\"?")));
        }
        return byKey;
    }

    private static void Resolve(SettingDefinition definition, SettingsFileReader? admin, SettingsFileReader? user, SettingOverride? flag,
        SettingValues values, List<SettingsError> errors, List<SettingsError> warnings)
    {
        string key = definition.Key;
        var adminEntry = EntryOf(admin, definition);
        var userEntry = EntryOf(user, definition);
        // Highest precedence first; each is parsed so that a broken value is reported even where another wins.
        var candidates = new List<(SettingSource Source, bool Parsed, object? Value)>();
        if (adminEntry is { Locked: true } locked)
        {
            string lockedBy = $"{key} is locked by the administrator in {admin!.Path}";
            if (userEntry is not null)
            {
                warnings.Add(new SettingsError(user!.Path, key, $"{lockedBy}; the value in this file is ignored"));
            }
            if (flag is not null)
            {
                errors.Add(new SettingsError(flag.Flag, key, lockedBy));
            }
            candidates.Add(locked.Value is { } lockedValue
                ? ParseJson(definition, lockedValue, SettingSource.Admin(admin.Path, locked: true), errors)
                : (SettingSource.Admin(admin.Path, locked: true), true, null));
        }
        else
        {
            if (flag is not null)
            {
                bool parsed = definition.TryParseText(flag.Value, out object? value, out string? error);
                candidates.Add(Parsed(definition, SettingSource.Flag(flag.Flag), parsed, value, error, errors));
            }
            if (userEntry?.Value is { } userValue)
            {
                candidates.Add(ParseJson(definition, userValue, SettingSource.File(user!.Path), errors));
            }
            if (adminEntry?.Value is { } adminValue)
            {
                candidates.Add(ParseJson(definition, adminValue, SettingSource.Admin(admin!.Path, locked: false), errors));
            }
        }
        var (source, parsedOk, chosen) = candidates.Count > 0 ? candidates[0] : (SettingSource.Default, true, null);
        bool failed = !parsedOk;
        // A lock without a value pins the default; a value that failed falls back to it so that later keys can still derive.
        if (failed || candidates.Count == 0 || adminEntry is { Locked: true, Value: null })
        {
            chosen = values.Track(() => definition.DefaultValue(values), out bool readFailed);
            failed |= readFailed;
        }
        object? effective = values.Track(() => definition.Limit(values, chosen), out bool limitReadFailed);
        values.Set(definition, effective, source, failed || limitReadFailed);
    }

    private static SettingsFileReader.RawSetting? EntryOf(SettingsFileReader? file, SettingDefinition definition) =>
        file is not null && file.Entries.TryGetValue(definition, out var entry) ? entry : null;

    private static (SettingSource, bool, object?) ParseJson(SettingDefinition definition, JsonElement node, SettingSource source, List<SettingsError> errors)
    {
        bool parsed = definition.TryParseJson(node, out object? value, out string? error);
        return Parsed(definition, source, parsed, value, error, errors);
    }

    private static (SettingSource, bool, object?) Parsed(SettingDefinition definition, SettingSource source, bool parsed, object? value, string? error, List<SettingsError> errors)
    {
        if (!parsed)
        {
            errors.Add(SettingsError.ForValue(source, definition.Key, error!));
        }
        return (source, parsed, value);
    }
}
