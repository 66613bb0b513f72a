using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>
/// The host end of a published UDP port. Each client gets a mapping to the address the guest
/// sees it as; the guest's replies from the published port to that address are caught before
/// NAT (see <see cref="UdpNat.AddPublished"/>) and sent back to the client from the published
/// socket, so the client sees the address and port it wrote to. Idle mappings expire.
/// </summary>
internal sealed class UdpPortListener : IPollHandler, IPublishedUdpPort, IDisposable
{
    private readonly int _fd;
    private readonly EventLoop _loop;
    private readonly PortPublisher _publisher;
    private readonly Publish _publish;
    private readonly Dictionary<IpEndpoint, (IpEndpoint Remote, Instant LastActivity)> _clients = new();
    private readonly LoopTimer _expiry;
    private PollRegistration _registration;

    public UdpPortListener(int fd, EventLoop loop, PortPublisher publisher, Publish publish)
    {
        _fd = fd;
        _loop = loop;
        _publisher = publisher;
        _publish = publish;
        _registration = loop.Register(fd, PollEvents.Readable, this);
        _expiry = loop.CreateTimer(Expire);
    }

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
            if (!_clients.TryGetValue(client, out var mapping))
            {
                var remote = _publisher.RemoteFor(client, guest.Address, PublishProtocol.Udp, guest);
                mapping = (remote, now);
                _publisher.Udp.AddPublished(guest, remote, this, client);
                _publish.Counters.Connections++;
            }
            _clients[client] = (mapping.Remote, now);
            _expiry.ScheduleNoLaterThan(now + _publisher.Options.UdpIdleTimeout);
            _publish.Counters.DatagramsToGuest++;
            _publish.Counters.BytesToGuest += n;
            _publisher.Stack.FinishUdp(mapping.Remote, guest, (int)n);
        }
    }

    /// <summary>A reply from the guest: back to the client, from the published socket.</summary>
    public void SendToClient(IpEndpoint client, ReadOnlySpan<byte> payload, Instant now)
    {
        if (_clients.TryGetValue(client, out var mapping))
        {
            _clients[client] = (mapping.Remote, now);
        }
        var address = NativeSocketAddress.FromEndpoint(client);
        if (address.SendTo(_fd, payload, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) >= 0)
        {
            _publish.Counters.DatagramsFromGuest++;
            _publish.Counters.BytesFromGuest += payload.Length;
        }
    }

    private void Expire(Instant now)
    {
        var timeout = _publisher.Options.UdpIdleTimeout;
        foreach (var (client, mapping) in _clients.Where(e => e.Value.LastActivity + timeout <= now).ToList())
        {
            _clients.Remove(client);
            _publisher.Udp.RemovePublished(_publish.Guest, mapping.Remote);
        }
        if (_clients.Count > 0)
        {
            _expiry.Schedule(_clients.Values.Min(m => m.LastActivity) + timeout);
        }
    }

    public void Dispose()
    {
        _expiry.Cancel();
        foreach (var mapping in _clients.Values)
        {
            _publisher.Udp.RemovePublished(_publish.Guest, mapping.Remote);
        }
        _clients.Clear();
        _loop.Unregister(_registration);
        _registration = PollRegistration.None;
        Libc.Close(_fd);
    }
}
