namespace Usernet.Http;

/// <summary>A message's header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).</summary>
internal sealed class HttpHeaders
{
    /// <summary>
    /// Hop-by-hop fields (RFC 9110 §7.6.1, plus the de-facto Proxy-Connection and Keep-Alive):
    /// they concern one connection, so a proxy never passes them on. Fields named in Connection are too.
    /// </summary>
    private static readonly string[] HopByHop =
        ["Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade"];

    private readonly List<KeyValuePair<string, string>> _fields = new();

    public int Count => _fields.Count;

    public IEnumerable<KeyValuePair<string, string>> Fields => _fields;

    public void Add(string name, string value) => _fields.Add(new(name, value));

    public string? Get(string name)
    {
        foreach (var (key, value) in _fields)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        return null;
    }

    public IEnumerable<string> GetAll(string name) =>
        _fields.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value);

    public bool Contains(string name) => Get(name) is not null;

    public void Remove(string name) => _fields.RemoveAll(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase));

    public void Set(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    /// <summary>Whether a comma-list field (Connection, Upgrade) has <paramref name="token"/> among its elements.</summary>
    public bool HasToken(string name, string token) =>
        GetAll(name).SelectMany(v => v.Split(',')).Any(t => string.Equals(t.Trim(), token, StringComparison.OrdinalIgnoreCase));

    /// <summary>Drops the hop-by-hop fields and those the Connection field names.</summary>
    public void RemoveHopByHop()
    {
        foreach (string named in GetAll("Connection").SelectMany(v => v.Split(',')).Select(t => t.Trim()).Where(t => t.Length > 0).ToList())
        {
            Remove(named);
        }
        foreach (string name in HopByHop)
        {
            Remove(name);
        }
    }

    public void WriteTo(System.Text.StringBuilder text)
    {
        foreach (var (name, value) in _fields)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }
    }
}
