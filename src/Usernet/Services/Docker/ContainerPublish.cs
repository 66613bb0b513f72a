using System.Globalization;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Services.Docker;

/// <summary>
/// One host port Usernet publishes for a container: <see cref="HostIp"/> (empty: every address,
/// by portBindingBehavior) and <see cref="HostPort"/> on the host, to the same port in the guest,
/// where the guest's daemon listens for the container.
/// </summary>
internal sealed record ContainerPublish(string HostIp, int HostPort, string Protocol, int ContainerPort)
{
    /// <summary>The address as Docker's port allocator writes it: "0.0.0.0:8080", ":::8080".</summary>
    public string DockerAddress => $"{(HostIp.Length == 0 ? "0.0.0.0" : HostIp)}:{HostPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The publish spec: an IPv4 or empty host address goes to the guest's IPv4 address (where
    /// the daemon's NAT or its userland proxy listen), an IPv6 one to <paramref name="guestV6"/>.
    /// Throws <see cref="PublishException"/> for what Usernet cannot publish (SCTP, a host IP that is no address).
    /// </summary>
    public PublishSpec ToSpec(IpAddress? guestV6)
    {
        var protocol = Protocol switch
        {
            "tcp" => PublishProtocol.Tcp,
            "udp" => PublishProtocol.Udp,
            _ => throw new PublishException($"{ContainerPort}/{Protocol}: Usernet publishes TCP and UDP ports only"),
        };
        IpAddress? host = null;
        IpAddress? guest = null;
        if (HostIp.Length > 0)
        {
            if (!IpAddress.TryParse(HostIp, out var address))
            {
                throw new PublishException($"host IP '{HostIp}' is not an IP address");
            }
            host = address;
            guest = address.IsV4 ? null : guestV6;
        }
        return new PublishSpec(host, HostPort, HostPort, HostPort, HostPort, protocol, guest);
    }
}
