namespace Usernet.Services.Proxy.Pac;

/// <summary>What a PAC script may ask of the host: names, its own address, and the time.</summary>
internal interface IPacHost
{
    /// <summary>The first IPv4 address of <paramref name="host"/> as text, or null; may block (it runs on the PAC thread).</summary>
    string? DnsResolve(string host);

    string MyIpAddress();

    DateTimeOffset Now { get; }

    /// <summary>The zone of the helpers' local-time forms (without "GMT").</summary>
    TimeZoneInfo TimeZone { get; }
}
