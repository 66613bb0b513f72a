namespace Usernet.Config;

/// <summary>
/// Every key's effective value and where it came from, indexed by schema position. The loader
/// fills it in table order, so a derived default can read the keys above it, then freezes it.
/// It also records which keys a default or a rule reads, so that a key that failed to load
/// silences the errors that would only follow from it.
/// </summary>
internal sealed class SettingValues
{
    private readonly object?[] _values;
    private readonly SettingSource?[] _sources;
    private readonly bool[] _failed;
    private HashSet<int>? _reads;
    private bool _frozen;

    public SettingValues(IReadOnlyList<HostNetwork> hostNetworks)
    {
        int count = SettingsSchema.All.Count;
        _values = new object?[count];
        _sources = new SettingSource?[count];
        _failed = new bool[count];
        HostNetworks = hostNetworks;
    }

    /// <summary>The networks the host is directly connected to, for the overlap rule.</summary>
    public IReadOnlyList<HostNetwork> HostNetworks { get; }

    public T Get<T>(SettingDefinition<T> definition) => (T)Raw(definition)!;

    public object? Raw(SettingDefinition definition)
    {
        if (_sources[definition.Index] is null)
        {
            throw new InvalidOperationException($"{definition.Key} was read before it was loaded: a default may only derive from keys above it in the schema");
        }
        _reads?.Add(definition.Index);
        return _values[definition.Index];
    }

    public SettingSource SourceOf(SettingDefinition definition) =>
        _sources[definition.Index] ?? throw new InvalidOperationException($"{definition.Key} is not loaded");

    public bool Failed(SettingDefinition definition) => _failed[definition.Index];

    public void Set(SettingDefinition definition, object? value, SettingSource source, bool failed)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("settings are immutable once loaded");
        }
        _values[definition.Index] = value;
        _sources[definition.Index] = source;
        _failed[definition.Index] = failed;
    }

    public void Freeze() => _frozen = true;

    /// <summary>Runs <paramref name="read"/> and says whether it read a key that failed to load.</summary>
    public TResult Track<TResult>(Func<TResult> read, out bool readFailed)
    {
        var outer = _reads;
        _reads = [];
        try
        {
            TResult result = read();
            readFailed = _reads.Any(index => _failed[index]);
            outer?.UnionWith(_reads);
            return result;
        }
        finally
        {
            _reads = outer;
        }
    }
}
