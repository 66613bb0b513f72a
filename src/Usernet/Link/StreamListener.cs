using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Link;

/// <summary>
/// Accepts QEMU stream connections on a unix or TCP socket; each connection is one guest.
/// </summary>
internal sealed class StreamListener : IPollHandler, IDisposable
{
    private readonly int _fd;
    private readonly LinkEndpoint _endpoint;
    private readonly Action<FrameLink> _onAccepted;
    private EventLoop? _loop;
    private PollRegistration _registration = PollRegistration.None;
    private int _accepted;

    private StreamListener(int fd, LinkEndpoint endpoint, Action<FrameLink> onAccepted)
    {
        _fd = fd;
        _endpoint = endpoint;
        _onAccepted = onAccepted;
    }

    public static StreamListener Listen(LinkEndpoint endpoint, Action<FrameLink> onAccepted)
    {
        NativeSocketAddress address;
        int domain;
        switch (endpoint.Kind)
        {
            case LinkEndpointKind.Unix:
                address = NativeSocketAddress.FromUnixPath(endpoint.Path!);
                domain = Libc.AF_UNIX;
                RemoveStaleSocket(endpoint.Path!);
                break;
            case LinkEndpointKind.Tcp:
                address = NativeSocketAddress.FromEndpoint(endpoint.Endpoint!.Value);
                domain = endpoint.Endpoint.Value.Address.IsV4 ? Libc.AF_INET : Libc.AF_INET6;
                break;
            default:
                throw new ArgumentException($"{endpoint} is not a stream listen address");
        }
        int fd = Libc.Socket(domain, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Errno.Exception("socket");
        }
        if (domain != Libc.AF_UNIX)
        {
            Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
        }
        // A VM socket hands out the guest's whole network: only its owner may connect, from the start.
        if (OwnerOnlyFiles.Create(() => address.Bind(fd)) < 0 || Libc.Listen(fd, 16) < 0)
        {
            int errno = Errno.Last;
            Libc.Close(fd);
            throw new SystemCallException($"listen on {endpoint}", errno);
        }
        if (endpoint.Kind == LinkEndpointKind.Unix)
        {
            Libc.Chmod(endpoint.Path!, 0x180);
        }
        return new StreamListener(fd, endpoint, onAccepted);
    }

    /// <summary>A socket file left by a previous run that nobody listens on any more.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return;
        }
        if ((File.GetAttributes(path) & FileAttributes.Directory) != 0)
        {
            throw new IOException($"{path} is a directory");
        }
        int probe = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        var address = NativeSocketAddress.FromUnixPath(path);
        bool live = address.Connect(probe) == 0;
        Libc.Close(probe);
        if (live)
        {
            throw new IOException($"{path} is in use by another process");
        }
        Libc.Unlink(path);
    }

    public void Start(EventLoop loop)
    {
        _loop = loop;
        _registration = loop.Register(_fd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        for (int i = 0; i < 16; i++)
        {
            var peer = new NativeSocketAddress();
            int fd = peer.Accept(_fd, Libc.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int errno = Errno.Last;
                if (errno is not (Errno.EAGAIN or Errno.EINTR or Errno.ECONNABORTED))
                {
                    Log.WarnLimited("accept-" + _endpoint, $"accept on {_endpoint}: {Errno.Describe(errno)}");
                }
                return;
            }
            _accepted++;
            string from = peer.Family == Libc.AF_UNIX ? "" : $" from {peer}";
            var link = new StreamLink(fd, $"qemu {_endpoint} #{_accepted}{from}");
            Log.Info($"{link.Description}: connected");
            _onAccepted(link);
        }
    }

    public void Dispose()
    {
        _loop?.Unregister(_registration);
        Libc.Close(_fd);
        if (_endpoint.Kind == LinkEndpointKind.Unix)
        {
            Libc.Unlink(_endpoint.Path!);
        }
    }
}
