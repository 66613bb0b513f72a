using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// One frame per datagram, as QEMU's <c>-netdev dgram</c> and vfkit send them. One socket can
/// serve several VMs: each sender address is its own guest link.
/// </summary>
internal sealed unsafe class DatagramListener : IPollHandler, IDisposable
{
    /// <summary>Peers kept before the least recently heard one is forgotten.</summary>
    private const int MaxPeers = 64;

    /// <summary>vfkit's greeting datagram, which carries no frame.</summary>
    private static ReadOnlySpan<byte> VfkitMagic => "VFKT"u8;

    private readonly int _fd;
    private readonly LinkEndpoint _endpoint;
    private readonly Action<FrameLink> _onNewPeer;
    private readonly Dictionary<NativeSocketAddress, DatagramPeerLink> _peers = new();
    private readonly byte[] _buffer = GC.AllocateArray<byte>(FrameLink.MaxFrameLength, pinned: true);
    private IFrameReceiver? _receiver;
    private EventLoop? _loop;
    private PollRegistration _registration = PollRegistration.None;

    private DatagramListener(int fd, LinkEndpoint endpoint, Action<FrameLink> onNewPeer)
    {
        _fd = fd;
        _endpoint = endpoint;
        _onNewPeer = onNewPeer;
    }

    public static DatagramListener Bind(LinkEndpoint endpoint, Action<FrameLink> onNewPeer)
    {
        int fd;
        if (endpoint.Kind == LinkEndpointKind.Fd)
        {
            fd = endpoint.Fd;
            Libc.SetNonBlocking(fd);
            Libc.SetCloseOnExec(fd, true);
            return new DatagramListener(fd, endpoint, onNewPeer);
        }
        NativeSocketAddress address;
        int domain;
        if (endpoint.Kind == LinkEndpointKind.UnixDatagram)
        {
            if (File.Exists(endpoint.Path!))
            {
                Libc.Unlink(endpoint.Path!);
            }
            address = NativeSocketAddress.FromUnixPath(endpoint.Path!);
            domain = Libc.AF_UNIX;
        }
        else
        {
            address = NativeSocketAddress.FromEndpoint(endpoint.Endpoint!.Value);
            domain = endpoint.Endpoint.Value.Address.IsV4 ? Libc.AF_INET : Libc.AF_INET6;
        }
        fd = Libc.Socket(domain, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Errno.Exception("socket");
        }
        if (address.Bind(fd) < 0)
        {
            int errno = Errno.Last;
            Libc.Close(fd);
            throw new SystemCallException($"bind {endpoint}", errno);
        }
        // Datagram links carry 64 KiB frames; the default buffers hold only a few.
        Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 4 * 1024 * 1024);
        Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, 4 * 1024 * 1024);
        if (endpoint.Kind == LinkEndpointKind.UnixDatagram)
        {
            Libc.Chmod(endpoint.Path!, 0x180);
        }
        return new DatagramListener(fd, endpoint, onNewPeer);
    }

    public void Start(EventLoop loop, IFrameReceiver receiver)
    {
        _loop = loop;
        _receiver = receiver;
        _registration = loop.Register(_fd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        for (int i = 0; i < 64; i++)
        {
            var from = new NativeSocketAddress();
            nint n = from.ReceiveFrom(_fd, _buffer, 0);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno is not (Errno.EAGAIN or Errno.EINTR))
                {
                    Log.WarnLimited("dgram-" + _endpoint, $"{_endpoint}: {Errno.Describe(errno)}");
                }
                return;
            }
            var frame = _buffer.AsSpan(0, (int)n);
            var peer = PeerFor(from);
            if (frame.SequenceEqual(VfkitMagic))
            {
                continue;
            }
            peer.Counters.FramesIn++;
            peer.Counters.BytesIn += n;
            peer.LastHeard = now;
            _receiver!.OnFrame(peer, frame, now);
        }
    }

    private DatagramPeerLink PeerFor(NativeSocketAddress from)
    {
        if (_peers.TryGetValue(from, out var peer))
        {
            return peer;
        }
        if (_peers.Count >= MaxPeers)
        {
            var oldest = _peers.Values.MinBy(p => p.LastHeard)!;
            _peers.Remove(oldest.Address);
            oldest.Dispose();
            _receiver!.OnLinkClosed(oldest, "forgotten: too many datagram peers");
        }
        string name = from.Length > 2 ? from.ToString() : "unnamed peer";
        peer = new DatagramPeerLink(this, from, $"dgram {_endpoint} from {name}");
        _peers[from] = peer;
        _onNewPeer(peer);
        return peer;
    }

    internal nint SendTo(in NativeSocketAddress to, ReadOnlySpan<byte> frame) =>
        to.SendTo(_fd, frame, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);

    internal void Forget(DatagramPeerLink peer) => _peers.Remove(peer.Address);

    public void Dispose()
    {
        _loop?.Unregister(_registration);
        Libc.Close(_fd);
        if (_endpoint.Kind == LinkEndpointKind.UnixDatagram)
        {
            Libc.Unlink(_endpoint.Path!);
        }
    }
}

/// <summary>One VM behind a shared datagram socket.</summary>
internal sealed class DatagramPeerLink : FrameLink
{
    private readonly DatagramListener _listener;
    private readonly NativeSocketAddress _address;

    public DatagramPeerLink(DatagramListener listener, NativeSocketAddress address, string description)
        : base(description, EthernetFrame.StandardMtu)
    {
        _listener = listener;
        _address = address;
    }

    /// <summary>The peer's socket address: where its frames come from and go to.</summary>
    public ref readonly NativeSocketAddress Address => ref _address;

    public Instant LastHeard { get; set; }

    public override void Start(EventLoop loop, IFrameReceiver receiver)
    {
        // The listener owns the socket and delivers for every peer.
    }

    public override void Send(ReadOnlySpan<byte> frame)
    {
        if (IsClosed)
        {
            return;
        }
        nint n = _listener.SendTo(in _address, frame);
        if (n == frame.Length)
        {
            Counters.FramesOut++;
            Counters.BytesOut += n;
        }
        else
        {
            Counters.DroppedOut++;
        }
    }

    protected override void Close() => _listener.Forget(this);
}
