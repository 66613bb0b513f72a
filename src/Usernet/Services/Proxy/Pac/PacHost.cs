using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Services.Proxy.Pac;

/// <summary>The real host of PAC scripts: names through the proxy's resolver, the host's address, the system clock.</summary>
internal sealed class PacHost(IProxyNameResolver resolver) : IPacHost
{
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(5);

    public DateTimeOffset Now => DateTimeOffset.Now;

    public TimeZoneInfo TimeZone => TimeZoneInfo.Local;

    public async Task<string?> DnsResolveAsync(string host)
    {
        try
        {
            using var cancel = new CancellationTokenSource(LookupTimeout);
            var addresses = await resolver.ResolveAsync(host, cancel.Token).ConfigureAwait(false);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)?.ToString();
        }
        catch (Exception e) when (e is ProxyException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The first IPv4 address of an interface that is up and not loopback, as browsers answer.</summary>
    public string MyIpAddress()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    return unicast.Address.ToString();
                }
            }
        }
        return "127.0.0.1";
    }
}
