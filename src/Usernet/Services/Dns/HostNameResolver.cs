using System.Net;
using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// A and AAAA through the host's own resolver, getaddrinfo (System.Net.Dns uses it, also under
/// NativeAOT), so that a guest resolves a name exactly as the host does: /etc/hosts, NSS,
/// systemd-resolved and the split DNS of a VPN client all apply. Runs on the thread pool.
/// </summary>
internal sealed class HostNameResolver
{
    /// <summary>One getaddrinfo call for one family.</summary>
    public delegate Task<IPAddress[]> AddressLookup(string name, AddressFamily family, CancellationToken cancel);

    private readonly AddressLookup _lookup;

    public HostNameResolver(AddressLookup? lookup = null) =>
        _lookup = lookup ?? ((name, family, cancel) => System.Net.Dns.GetHostAddressesAsync(name, family, cancel));

    /// <summary>
    /// Resolves <paramref name="name"/> for <paramref name="type"/> (A or AAAA). getaddrinfo
    /// says "no such name" (EAI_NONAME) also when the name exists with addresses of the other
    /// family only, so that case asks for the other family too: NODATA if it has some,
    /// NXDOMAIN if not (RFC 2308 §2.1 and §2.2 are different answers).
    /// </summary>
    public async Task<HostLookupResult> ResolveAsync(string name, ushort type, CancellationToken cancel)
    {
        var family = type == DnsType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var result = await LookupAsync(name, family, cancel).ConfigureAwait(false);
        if (result.Status != HostLookupStatus.NoName)
        {
            return result;
        }
        var other = family == AddressFamily.InterNetwork ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var otherResult = await LookupAsync(name, other, cancel).ConfigureAwait(false);
        return HostLookupResult.Of(otherResult.Status switch
        {
            HostLookupStatus.Found or HostLookupStatus.NoData => HostLookupStatus.NoData,
            HostLookupStatus.NoName => HostLookupStatus.NoName,
            _ => HostLookupStatus.Failed,
        });
    }

    private async Task<HostLookupResult> LookupAsync(string name, AddressFamily family, CancellationToken cancel)
    {
        try
        {
            var found = await _lookup(name, family, cancel).ConfigureAwait(false);
            var addresses = found
                .Where(a => a.AddressFamily == family)
                .Select(IpAddressConversions.ToIpAddress)
                .Distinct()
                .ToList();
            return addresses.Count > 0 ? new HostLookupResult(HostLookupStatus.Found, addresses) : HostLookupResult.Of(HostLookupStatus.NoData);
        }
        catch (SocketException e)
        {
            return HostLookupResult.Of(e.SocketErrorCode switch
            {
                SocketError.HostNotFound => HostLookupStatus.NoName,
                SocketError.NoData => HostLookupStatus.NoData,
                _ => HostLookupStatus.Failed,
            });
        }
        catch (Exception e) when (e is OperationCanceledException or ArgumentException)
        {
            return HostLookupResult.Of(HostLookupStatus.Failed);
        }
    }
}
