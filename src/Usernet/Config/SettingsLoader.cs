using System.Text.Json;
using Usernet.Stack.Egress;

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
        if (definition == SettingsSchema.EgressRules)
        {
            ResolveEgressRules(admin, user, flag, values, errors, warnings);
            return;
        }
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

    /// <summary>
    /// egress.rules is the one key a lock does not replace: a locked admin list comes first and
    /// the user's (a flag, else settings.json) follows it, so a user rule decides only what no
    /// admin rule matched. Under an admin-locked <c>egress.default: deny</c> the user's allow
    /// rules are dropped with a warning: a user may narrow what the admin allows, never widen it.
    /// An unlocked admin list is an admin's default, as for every key.
    /// </summary>
    private static void ResolveEgressRules(SettingsFileReader? admin, SettingsFileReader? user, SettingOverride? flag,
        SettingValues values, List<SettingsError> errors, List<SettingsError> warnings)
    {
        var definition = SettingsSchema.EgressRules;
        var adminEntry = EntryOf(admin, definition);
        var userEntry = EntryOf(user, definition);
        bool adminLocked = adminEntry is { Locked: true };
        bool failed = false;
        var adminRules = new List<EgressRuleSpec>();
        if (adminLocked && adminEntry!.Value.Value is { } lockedValue)
        {
            var (_, parsed, value) = ParseJson(definition, lockedValue, SettingSource.Admin(admin!.Path, locked: true), errors);
            failed |= !parsed;
            adminRules.AddRange(((IReadOnlyList<EgressRuleSpec>?)value ?? []).Select(r => r with { Admin = true }));
        }
        (SettingSource Source, bool Parsed, object? Value)? own = null;
        if (flag is not null)
        {
            bool parsed = definition.TryParseText(flag.Value, out object? value, out string? error);
            own = Parsed(definition, SettingSource.Flag(flag.Flag), parsed, value, error, errors);
        }
        else if (userEntry?.Value is { } userValue)
        {
            own = ParseJson(definition, userValue, SettingSource.File(user!.Path), errors);
        }
        else if (!adminLocked && adminEntry?.Value is { } adminValue)
        {
            own = ParseJson(definition, adminValue, SettingSource.Admin(admin!.Path, locked: false), errors);
        }
        failed |= own is { Parsed: false };
        var userRules = (IReadOnlyList<EgressRuleSpec>?)own?.Value ?? [];
        var defaultSource = values.SourceOf(SettingsSchema.EgressDefault);
        if (defaultSource.Locked && values.Get(SettingsSchema.EgressDefault) == EgressAction.Deny && own?.Source is { Kind: not SettingSourceKind.Admin } ownSource)
        {
            int dropped = userRules.Count(r => r.Action == EgressAction.Allow);
            if (dropped > 0)
            {
                warnings.Add(new SettingsError(ownSource.Label, definition.Key,
                    $"{definition.Key}: {dropped} allow rule(s) ignored: the administrator locked egress.default to deny in {defaultSource.Label}, so only admin rules can allow"));
                userRules = userRules.Where(r => r.Action != EgressAction.Allow).ToList();
            }
        }
        SettingSource source = adminLocked
            ? SettingSource.Admin(own is { } mine && userRules.Count > 0 ? $"{admin!.Path}, then {mine.Source}" : admin!.Path, locked: true)
            : own?.Source ?? SettingSource.Default;
        values.Set(definition, failed ? Array.Empty<EgressRuleSpec>() : adminRules.Concat(userRules).ToList().AsReadOnly(), source, failed);
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
