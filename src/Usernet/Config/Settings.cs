namespace Usernet.Config;

/// <summary>
/// The effective configuration of the whole program: defaults, admin-settings.json,
/// settings.json and flags merged and checked. Immutable, so a reload builds a new one and
/// a failed reload leaves the old one in force. Load it with <see cref="SettingsLoader"/>.
/// </summary>
internal sealed class Settings
{
    private readonly SettingValues _values;

    internal Settings(SettingValues values)
    {
        values.Freeze();
        _values = values;
        Network = new NetworkSettings(values);
        Dns = new DnsSettings(values);
        Proxy = new ProxySettings(values, SettingsSchema.Proxy);
        ContainersProxy = new ContainersProxySettings(values);
        Ports = new PortsSettings(values);
        Tcp = new TcpSettings(values);
        Udp = new UdpSettings(values);
        Fragments = new FragmentsSettings(values);
        Dhcp = new DhcpSettings(values);
        Security = new SecuritySettings(values);
        Socks = new SocksSettings(values);
        Metrics = new MetricsSettings(values);
        Log = new LogSettings(values);
        Egress = new EgressSettings(values);
        Entries = SettingsSchema.All.Select(d => new SettingEntry(d, values.Raw(d), values.SourceOf(d))).ToArray();
    }

    public NetworkSettings Network { get; }

    public DnsSettings Dns { get; }

    public ProxySettings Proxy { get; }

    public ContainersProxySettings ContainersProxy { get; }

    public PortsSettings Ports { get; }

    public TcpSettings Tcp { get; }

    public UdpSettings Udp { get; }

    public FragmentsSettings Fragments { get; }

    public DhcpSettings Dhcp { get; }

    public SecuritySettings Security { get; }

    public SocksSettings Socks { get; }

    public MetricsSettings Metrics { get; }

    /// <summary>How long the event loop polls after traffic before it sleeps; zero on one CPU, where it never polls.</summary>
    public TimeSpan LoopPoll =>
        Environment.ProcessorCount > 1 ? TimeSpan.FromMicroseconds(_values.Get(SettingsSchema.LoopPollMicroseconds)) : TimeSpan.Zero;

    public LogSettings Log { get; }
    public EgressSettings Egress { get; }

    /// <summary>Every key in schema order, with its value and source.</summary>
    public IReadOnlyList<SettingEntry> Entries { get; }

    public T Get<T>(SettingDefinition<T> definition) => _values.Get(definition);

    public SettingSource SourceOf(SettingDefinition definition) => _values.SourceOf(definition);

    /// <summary>The sections whose values differ from <paramref name="previous"/>: what a reload must restart.</summary>
    public IReadOnlySet<SettingsSection> ChangedSections(Settings previous) =>
        Entries.Zip(previous.Entries)
            .Where(pair => !pair.First.Definition.Equal(pair.First.Value, pair.Second.Value))
            .Select(pair => pair.First.Definition.Section)
            .ToHashSet();

    /// <summary>Every key at its default, with no host network check: for tests and as a base.</summary>
    public static Settings CreateDefault() => Create();

    /// <summary>
    /// Defaults with some keys set as flags would set them, with no host network check; throws
    /// <see cref="SettingsException"/> when they do not load. For tests of the code that reads settings.
    /// </summary>
    public static Settings Create(params (string Key, string Value)[] overrides) =>
        SettingsLoader.Load(new SettingsInput
        {
            Flags = overrides.Select(o => new SettingOverride(o.Key, o.Value, $"--set {o.Key}={o.Value}")).ToArray(),
        }).GetOrThrow();
}
