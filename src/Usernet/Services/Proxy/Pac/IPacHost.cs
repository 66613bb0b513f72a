namespace Usernet.Services.Proxy.Pac;

/// <summary>What a PAC script may ask of the host: names, its own address, and the time.</summary>
internal interface IPacHost
{
    /// <summary>
    /// The first IPv4 address of <paramref name="host"/> as text, or null when it has none or
    /// the lookup fails. Must not block: the lookup runs elsewhere, within the host's own time
    /// limit, and <see cref="PacLookups"/> decides how long an evaluation waits for it.
    /// </summary>
    Task<string?> DnsResolveAsync(string host);

    string MyIpAddress();

    DateTimeOffset Now { get; }

    /// <summary>The zone of the helpers' local-time forms (without "GMT").</summary>
    TimeZoneInfo TimeZone { get; }
}
