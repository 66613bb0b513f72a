using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>
/// The host end of a published UDP port. Each client gets a mapping to the address the guest
/// sees it as; the guest's replies from the published port to that address are caught before
/// NAT (see <see cref="UdpNat.AddPublished"/>) and sent back to the client from the published
/// socket, so the client sees the address and port it wrote to. The mappings are a
/// <see cref="FlowTable{TKey, TFlow}"/>: at most <see cref="PublishOptions.UdpMaxClients"/>,
/// the least recently used evicted to make room for a new client, and each idle one expired
/// from the old end of the table's list, never by a scan of them all. Remote clients are
/// untrusted: one sending from ever new ports only pushes out the oldest mappings.
/// </summary>
internal sealed class UdpPortListener : IPollHandler, IPublishedUdpPort, IDisposable
{
    /// <summary>A client and the address the guest sees it as.</summary>
    private sealed record Mapping(IpEndpoint Client, IpEndpoint Remote);

    private readonly int _fd;
    private readonly EventLoop _loop;
    private readonly PortPublisher _publisher;
    private readonly Publish _publish;
    private readonly FlowTable<IpEndpoint, Mapping> _clients;
    private PollRegistration _registration;

    public UdpPortListener(int fd, EventLoop loop, PortPublisher publisher, Publish publish)
    {
        _fd = fd;
        _loop = loop;
        _publisher = publisher;
        _publish = publish;
        var options = publisher.Options;
        _clients = new FlowTable<IpEndpoint, Mapping>(options.UdpMaxClients, options.UdpIdleTimeout, loop.Timers, OnClientEnded);
        _registration = loop.Register(fd, PollEvents.Readable, this);
    }

    /// <summary>The clients with a mapping now.</summary>
    public int Clients => _clients.Count;

    public void OnPoll(PollEvents events, Instant now)
    {
        var guest = _publish.Guest;
        for (int i = 0; i < 64; i++)
        {
            var from = new NativeSocketAddress();
            // Straight into the UDP payload area of the frame that carries it to the guest.
            var buffer = _publisher.Stack.UdpPayload(guest.Address)[..(65535 - 48)];
            nint n = from.ReceiveFrom(_fd, buffer, Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                return;
            }
            var client = from.ToEndpoint();
            if (!_clients.TryGet(client, now, out var mapping))
            {
                mapping = new Mapping(client, _publisher.RemoteFor(client, guest.Address, PublishProtocol.Udp, guest));
                // A full table evicts its least recently used client first (OnClientEnded).
                _clients.Add(client, mapping, now);
                _publisher.Udp.AddPublished(guest, mapping.Remote, this, client);
                _publish.Counters.Connections++;
            }
            _publish.Counters.DatagramsToGuest++;
            _publish.Counters.BytesToGuest += n;
            _publisher.Stack.FinishUdp(mapping.Remote, guest, (int)n);
        }
    }

    /// <summary>A reply from the guest: back to the client, from the published socket.</summary>
    public void SendToClient(IpEndpoint client, ReadOnlySpan<byte> payload, Instant now)
    {
        _clients.Touch(client, now);
        var address = NativeSocketAddress.FromEndpoint(client);
        if (address.SendTo(_fd, payload, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) >= 0)
        {
            _publish.Counters.DatagramsFromGuest++;
            _publish.Counters.BytesFromGuest += payload.Length;
        }
    }

    private void OnClientEnded(Mapping mapping, FlowEnd end)
    {
        _publisher.Udp.RemovePublished(_publish.Guest, mapping.Remote);
        if (end == FlowEnd.Evicted)
        {
            _publish.Counters.ClientsEvicted++;
        }
        else if (end == FlowEnd.Expired)
        {
            _publish.Counters.ClientsExpired++;
        }
    }

    public void Dispose()
    {
        _clients.CloseWhere(_ => true);
        _loop.Unregister(_registration);
        _registration = PollRegistration.None;
        Libc.Close(_fd);
    }
}
