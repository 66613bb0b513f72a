using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Fuzz.Fakes;

/// <summary>Opens in-memory UDP and ping sockets for the NATs; the input plays the host's side through them.</summary>
internal sealed class FakeDatagramFactory : IHostDatagramFactory
{
    public List<FakeDatagramSocket> Sockets { get; } = new();

    public string? PingUnavailableReason => null;

    public IHostDatagramSocket? OpenUdp(IpAddress family, IHostDatagramEvents events) => Open(family, events);

    public IHostDatagramSocket? OpenPing(IpAddress family, IHostDatagramEvents events) => Open(family, events);

    private FakeDatagramSocket Open(IpAddress family, IHostDatagramEvents events)
    {
        var socket = new FakeDatagramSocket(family, events);
        Sockets.Add(socket);
        return socket;
    }
}
