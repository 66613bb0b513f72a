using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// One frame per datagram, as QEMU's <c>-netdev dgram</c> and vfkit send them. One socket can
/// serve several VMs: each sender address is its own guest link. A peer's link closes when
/// the peer is gone (its unix socket refuses or no longer exists), when too many peers push it
/// out, and, every peer at once, when the listener closes: no frame goes out on the socket
/// after that.
/// </summary>
internal sealed unsafe class DatagramListener : IPollHandler, IDisposable
{
    /// <summary>Peers kept before the least recently heard one is forgotten.</summary>
    private const int MaxPeers = 64;

    /// <summary>vfkit's greeting datagram, which carries no frame.</summary>
    private static ReadOnlySpan<byte> VfkitMagic => "VFKT"u8;

    private readonly LinkEndpoint _endpoint;
    private readonly Action<FrameLink> _onNewPeer;
    private readonly Dictionary<NativeSocketAddress, DatagramPeerLink> _peers = new();
    private readonly byte[] _buffer = GC.AllocateArray<byte>(FrameLink.MaxFrameLength, pinned: true);
    private int _fd;
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
        // As a stream socket's: only its owner may send frames to it, from the start.
        if (OwnerOnlyFiles.Create(() => address.Bind(fd)) < 0)
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
            Close(_peers.Values.MinBy(p => p.LastHeard)!, "forgotten: too many datagram peers");
        }
        string name = from.Length > 2 ? from.ToString() : "unnamed peer";
        peer = new DatagramPeerLink(this, from, $"dgram {_endpoint} from {name}");
        _peers[from] = peer;
        _onNewPeer(peer);
        return peer;
    }

    /// <summary>Sends one frame to <paramref name="peer"/>: true when it went, false when it was dropped.</summary>
    internal bool SendTo(DatagramPeerLink peer, ReadOnlySpan<byte> frame)
    {
        if (_fd < 0)
        {
            return false;
        }
        nint n = peer.Address.SendTo(_fd, frame, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        if (n == frame.Length)
        {
            return true;
        }
        int errno = Errno.Last;
        if (n < 0 && errno is (Errno.ECONNREFUSED or Errno.ENOENT) && !peer.Gone)
        {
            peer.Gone = true;
            // The peer's unix socket is closed, or its file gone: the VM has stopped. Closed
            // after this batch, since the switch may be going through its links now.
            string reason = $"the peer is gone ({Errno.Describe(errno)})";
            _loop?.Post(_ => Close(peer, reason));
        }
        return false;
    }

    internal void Forget(DatagramPeerLink peer) => _peers.Remove(peer.Address);

    /// <summary>Closes one peer's link and tells the switch, once.</summary>
    private void Close(DatagramPeerLink peer, string reason)
    {
        if (peer.IsClosed)
        {
            return;
        }
        peer.Dispose();
        _receiver?.OnLinkClosed(peer, reason);
    }

    public void Dispose()
    {
        if (_fd < 0)
        {
            return;
        }
        foreach (var peer in _peers.Values.ToList())
        {
            Close(peer, "the datagram listener closed");
        }
        _loop?.Unregister(_registration);
        Libc.Close(_fd);
        _fd = -1;
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

    /// <summary>A send found the peer gone; the link closes after the batch.</summary>
    public bool Gone { get; set; }

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
        if (_listener.SendTo(this, frame))
        {
            Counters.FramesOut++;
            Counters.BytesOut += frame.Length;
        }
        else
        {
            Counters.DroppedOut++;
        }
    }

    protected override void Close() => _listener.Forget(this);
}
