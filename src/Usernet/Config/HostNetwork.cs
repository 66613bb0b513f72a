using System.Net.NetworkInformation;
using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>
/// An IPv4 network the host is directly connected to. The guest subnet must not overlap one:
/// a connection to such an address would stay inside the guest instead of reaching the host's
/// neighbour. Tests pass their own list so that the result does not depend on the machine.
/// </summary>
internal sealed record HostNetwork(string Interface, Ipv4Cidr Network)
{
    /// <summary>The host's networks now, from its interface addresses (netlink underneath, fine under NativeAOT).</summary>
    public static IReadOnlyList<HostNetwork> FromInterfaces()
    {
        var networks = new List<HostNetwork>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.AddressFamily == AddressFamily.InterNetwork)
                    {
                        var address = unicast.Address.ToIpAddress().V4;
                        networks.Add(new HostNetwork(nic.Name, new Ipv4Cidr(address, unicast.PrefixLength)));
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Without the list the check cannot run; the guest still works wherever there is no overlap.
        }
        return networks;
    }
}
