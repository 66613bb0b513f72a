using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>Where a local record comes from.</summary>
internal enum DnsRecordOrigin
{
    /// <summary>host.docker.internal and the other names Docker Desktop has; they cannot be changed.</summary>
    BuiltIn,

    /// <summary>dns.records in the settings.</summary>
    Settings,

    /// <summary>Added at run time through the control API (usernet dns add).</summary>
    Api,
}

/// <summary>One address of a local name.</summary>
internal readonly record struct DnsLocalRecord(string Name, IpAddress Address, DnsRecordOrigin Origin);

/// <summary>What an attempt to change a local name did.</summary>
internal enum DnsRecordChange
{
    Added,
    AlreadyPresent,
    Removed,
    NotFound,
    BuiltIn,
}

/// <summary>
/// The names Usernet answers itself: the built-in ones (host.docker.internal and the like),
/// those from the settings, and those added at run time. Names under its own zones
/// (docker.internal, containers.internal) that have no record do not exist: NXDOMAIN, not
/// forwarded. Each name's A and AAAA answers are made when the name changes, so that answering
/// allocates nothing. Loop thread only.
/// </summary>
internal sealed class DnsLocalRecords
{
    /// <summary>
    /// The TTL of local answers: short, because records come and go at run time and a guest
    /// that caches should see that soon.
    /// </summary>
    public const uint Ttl = 10;

    /// <summary>Zones that are Usernet's alone, as in Docker Desktop.</summary>
    public static readonly IReadOnlyList<string> Zones = ["docker.internal", "containers.internal"];

    private static readonly DnsAnswer NoData = DnsAnswer.Empty(DnsResponseCode.NoError, DnsAnswerSource.Local);
    private static readonly DnsAnswer NoSuchName = DnsAnswer.Empty(DnsResponseCode.NameError, DnsAnswerSource.Local);

    private readonly Dictionary<string, LocalName> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LocalName>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly byte[][] _zones = Zones.Select(DnsName.Encode).ToArray();

    private sealed class LocalName(string name)
    {
        public string Name { get; } = name;

        public List<(IpAddress Address, DnsRecordOrigin Origin)> Addresses { get; } = new();

        public DnsAnswer A { get; set; } = NoData;

        public DnsAnswer Aaaa { get; set; } = NoData;

        public bool IsBuiltIn => Addresses.Any(a => a.Origin == DnsRecordOrigin.BuiltIn);

        public void Rebuild()
        {
            var addresses = Addresses.Select(a => a.Address).ToList();
            A = DnsAnswerBuilder.Addresses(addresses, DnsType.A, Ttl, DnsAnswerSource.Local, Instant.Zero, Instant.Never);
            Aaaa = DnsAnswerBuilder.Addresses(addresses, DnsType.Aaaa, Ttl, DnsAnswerSource.Local, Instant.Zero, Instant.Never);
        }
    }

    public DnsLocalRecords(IEnumerable<(string Name, IpAddress Address)> builtIn, IReadOnlyDictionary<string, IReadOnlyList<IpAddress>>? settings = null)
    {
        _bySpan = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (name, address) in builtIn)
        {
            Put(name, address, DnsRecordOrigin.BuiltIn);
        }
        foreach (var (name, addresses) in settings ?? new Dictionary<string, IReadOnlyList<IpAddress>>())
        {
            foreach (var address in addresses)
            {
                Put(name, address, DnsRecordOrigin.Settings);
            }
        }
    }

    /// <summary>
    /// The built-in names of Docker Desktop: the host (NAT to the host's loopback) and the
    /// gateway, where the HTTP proxy listens too.
    /// </summary>
    public static IEnumerable<(string Name, IpAddress Address)> BuiltInNames(
        IpAddress host, IpAddress? hostV6, IpAddress gateway, IpAddress? gatewayV6)
    {
        foreach (string name in new[] { "host.docker.internal", "host.containers.internal" })
        {
            yield return (name, host);
            if (hostV6 is { } v6)
            {
                yield return (name, v6);
            }
        }
        foreach (string name in new[] { "gateway.docker.internal", "gateway.containers.internal", "http.docker.internal" })
        {
            yield return (name, gateway);
            if (gatewayV6 is { } v6)
            {
                yield return (name, v6);
            }
        }
    }

    public int Count => _names.Count;

    /// <summary>
    /// Answers <paramref name="lowerName"/> if it is local: its records of
    /// <paramref name="type"/>, NODATA when it has none of that type, or NXDOMAIN for an
    /// unknown name in a local zone. False when the name is not Usernet's.
    /// </summary>
    public bool TryAnswer(ReadOnlySpan<byte> lowerName, ushort type, out DnsAnswer answer)
    {
        Span<char> key = stackalloc char[DnsKey.MaxLength];
        if (_bySpan.TryGetValue(DnsKey.ForName(lowerName, key), out var local))
        {
            answer = type switch
            {
                DnsType.A => local.A,
                DnsType.Aaaa => local.Aaaa,
                _ => NoData,
            };
            return true;
        }
        foreach (byte[] zone in _zones)
        {
            if (DnsName.IsAtOrBelow(lowerName, zone))
            {
                // The apex exists (it has names below it); nothing else does.
                answer = lowerName.Length == zone.Length ? NoData : NoSuchName;
                return true;
            }
        }
        answer = NoData;
        return false;
    }

    /// <summary>Adds an address to a name (a valid domain name; checked by the caller).</summary>
    public DnsRecordChange Add(string name, IpAddress address)
    {
        string normalized = Config.DomainName.Normalize(name);
        if (_names.TryGetValue(KeyOf(normalized), out var existing))
        {
            if (existing.IsBuiltIn)
            {
                return DnsRecordChange.BuiltIn;
            }
            if (existing.Addresses.Any(a => a.Address == address))
            {
                return DnsRecordChange.AlreadyPresent;
            }
        }
        Put(normalized, address, DnsRecordOrigin.Api);
        return DnsRecordChange.Added;
    }

    /// <summary>Removes one address of a name, or every address when <paramref name="address"/> is null.</summary>
    public DnsRecordChange Remove(string name, IpAddress? address)
    {
        string key = KeyOf(Config.DomainName.Normalize(name));
        if (!_names.TryGetValue(key, out var local))
        {
            return DnsRecordChange.NotFound;
        }
        if (local.IsBuiltIn)
        {
            return DnsRecordChange.BuiltIn;
        }
        int removed = local.Addresses.RemoveAll(a => address is null || a.Address == address);
        if (removed == 0)
        {
            return DnsRecordChange.NotFound;
        }
        if (local.Addresses.Count == 0)
        {
            _names.Remove(key);
        }
        else
        {
            local.Rebuild();
        }
        return DnsRecordChange.Removed;
    }

    public IReadOnlyList<DnsLocalRecord> List() =>
        _names.Values
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .SelectMany(n => n.Addresses.Select(a => new DnsLocalRecord(n.Name, a.Address, a.Origin)))
            .ToList();

    private void Put(string name, IpAddress address, DnsRecordOrigin origin)
    {
        string normalized = Config.DomainName.Normalize(name);
        string key = KeyOf(normalized);
        if (!_names.TryGetValue(key, out var local))
        {
            _names[key] = local = new LocalName(normalized);
        }
        if (!local.Addresses.Any(a => a.Address == address))
        {
            local.Addresses.Add((address, origin));
        }
        local.Rebuild();
    }

    private static string KeyOf(string name)
    {
        Span<char> key = stackalloc char[DnsKey.MaxLength];
        return DnsKey.ForName(DnsName.Encode(name), key).ToString();
    }
}
