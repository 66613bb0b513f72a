namespace Usernet.Cli;

/// <summary>A command-line mistake: the message names the option and what is wrong.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parses <c>--name value</c>, <c>--name=value</c>, short aliases, repeatable options and
/// flags, up to <c>--</c> (after which everything is the command to run). Options are declared
/// first, so a misspelled one is an error that names it.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, OptionSpec> _byName = new();
    private readonly Dictionary<string, List<string>> _values = new();
    private readonly HashSet<string> _flags = new();

    private sealed record OptionSpec(string Name, bool TakesValue, bool Repeatable, string Help, string? ValueName);

    public List<string> Positional { get; } = new();

    /// <summary>Everything after <c>--</c>, or null when there was no <c>--</c>.</summary>
    public List<string>? Command { get; private set; }

    public CommandLine Option(string name, string valueName, string help, bool repeatable = false, string? alias = null)
    {
        var spec = new OptionSpec(name, true, repeatable, help, valueName);
        _byName[name] = spec;
        if (alias is not null)
        {
            _byName[alias] = spec;
        }
        return this;
    }

    public CommandLine Flag(string name, string help, string? alias = null)
    {
        var spec = new OptionSpec(name, false, false, help, null);
        _byName[name] = spec;
        if (alias is not null)
        {
            _byName[alias] = spec;
        }
        return this;
    }

    /// <summary>The option lines for help text.</summary>
    public IEnumerable<string> HelpLines()
    {
        foreach (var spec in _byName.Values.Distinct())
        {
            string alias = _byName.FirstOrDefault(e => e.Value == spec && e.Key != spec.Name).Key is { } a ? $"{a}, " : "";
            string left = spec.TakesValue ? $"{alias}{spec.Name} {spec.ValueName}" : $"{alias}{spec.Name}";
            yield return $"  {left,-34} {spec.Help}";
        }
    }

    public CommandLine Parse(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                Command = args.Skip(i + 1).ToList();
                return this;
            }
            if (!arg.StartsWith('-') || arg == "-")
            {
                Positional.Add(arg);
                continue;
            }
            string name = arg;
            string? inline = null;
            int equals = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inline = arg[(equals + 1)..];
            }
            if (!_byName.TryGetValue(name, out var spec))
            {
                throw new UsageException($"unknown option {name}");
            }
            if (!spec.TakesValue)
            {
                if (inline is not null)
                {
                    throw new UsageException($"{name} takes no value");
                }
                _flags.Add(spec.Name);
                continue;
            }
            string value = inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"{name} needs a value ({spec.ValueName})"));
            if (!_values.TryGetValue(spec.Name, out var list))
            {
                _values[spec.Name] = list = new List<string>();
            }
            else if (!spec.Repeatable)
            {
                throw new UsageException($"{name} given twice");
            }
            list.Add(value);
        }
        return this;
    }

    public bool Has(string name) => _flags.Contains(name) || _values.ContainsKey(name);

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    /// <summary>Each option given, in order of declaration, with its values (for mapping onto settings).</summary>
    public IEnumerable<(string Name, string Value)> AllValues() =>
        _values.SelectMany(e => e.Value.Select(v => (e.Key, v)));
}
