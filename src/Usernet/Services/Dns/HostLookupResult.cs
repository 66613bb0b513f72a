using Usernet.Wire;

namespace Usernet.Services.Dns;

internal enum HostLookupStatus
{
    /// <summary>Addresses of the family asked for.</summary>
    Found,

    /// <summary>The name exists, but has no address of that family: NODATA.</summary>
    NoData,

    /// <summary>No such name: NXDOMAIN.</summary>
    NoName,

    /// <summary>The host's resolver failed (no nameserver answered): SERVFAIL.</summary>
    Failed,
}

/// <summary>What the host's getaddrinfo said about a name.</summary>
internal readonly record struct HostLookupResult(HostLookupStatus Status, IReadOnlyList<IpAddress> Addresses)
{
    public static HostLookupResult Of(HostLookupStatus status) => new(status, []);
}
