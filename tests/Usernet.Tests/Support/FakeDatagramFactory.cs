using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// Opens <see cref="FakeDatagramSocket"/>s for UDP and ICMP echo NAT and keeps each one, so a
/// test sees what went out to the host and plays what the host answers through the socket's events.
/// </summary>
internal sealed class FakeDatagramFactory : IHostDatagramFactory
{
    public List<FakeDatagramSocket> Udp { get; } = new();

    public List<FakeDatagramSocket> Ping { get; } = new();

    /// <summary>When set, ping sockets cannot be opened, for this reason.</summary>
    public string? PingUnavailableReason { get; set; }

    public IHostDatagramSocket? OpenUdp(IpAddress family, IHostDatagramEvents events)
    {
        var socket = new FakeDatagramSocket(family, events);
        Udp.Add(socket);
        return socket;
    }

    public IHostDatagramSocket? OpenPing(IpAddress family, IHostDatagramEvents events)
    {
        if (PingUnavailableReason is not null)
        {
            return null;
        }
        var socket = new FakeDatagramSocket(family, events);
        Ping.Add(socket);
        return socket;
    }
}
