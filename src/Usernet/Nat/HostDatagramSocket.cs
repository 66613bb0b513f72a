using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// A host datagram socket for one guest flow: UDP, or an unprivileged ICMP ("ping") socket. It
/// sends with the guest's TTL and DF bit, so that the path beyond the host treats the datagram
/// as the guest meant it, and with IP_RECVERR the ICMP errors the host receives about it (port
/// unreachable, time exceeded, fragmentation needed) come back to be relayed to the guest:
/// that is what lets traceroute work.
/// </summary>
internal sealed unsafe class HostDatagramSocket : IHostDatagramSocket, IPollHandler
{
    private const int ReadBudget = 64;

    private readonly EventLoop _loop;
    private readonly IHostDatagramEvents _events;
    private readonly bool _v4;
    private int _fd;
    private PollRegistration _registration;
    private int _ttl = -1;
    private int _discovery = -1;

    private HostDatagramSocket(EventLoop loop, int fd, bool v4, IHostDatagramEvents events)
    {
        _loop = loop;
        _fd = fd;
        _v4 = v4;
        _events = events;
        _registration = loop.Register(fd, PollEvents.Readable, this);
    }

    /// <summary>Opens a UDP socket, or with <paramref name="ping"/> an ICMP echo socket, of the family of <paramref name="family"/>.</summary>
    public static HostDatagramSocket? Open(EventLoop loop, IpAddress family, IHostDatagramEvents events, bool ping = false)
    {
        bool v4 = family.IsV4;
        int protocol = !ping ? 0 : v4 ? Libc.IPPROTO_ICMP : Libc.IPPROTO_ICMPV6;
        int fd = Libc.Socket(v4 ? Libc.AF_INET : Libc.AF_INET6, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            Log.WarnLimited("datagram-socket", $"cannot open a host {(ping ? "ICMP" : "UDP")} socket: {Errno.Describe(Errno.Last)}");
            return null;
        }
        if (v4)
        {
            Libc.SetSockOptInt(fd, Libc.IPPROTO_IP, Libc.IP_RECVERR, 1);
        }
        else
        {
            Libc.SetSockOptInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 1);
            Libc.SetSockOptInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_RECVERR, 1);
        }
        return new HostDatagramSocket(loop, fd, v4, events);
    }

    public HostSendResult Send(IpEndpoint destination, ReadOnlySpan<byte> payload, byte ttl, bool dontFragment, out int mtu)
    {
        mtu = 0;
        if (_fd < 0)
        {
            return HostSendResult.Failed;
        }
        SetHopLimit(ttl);
        SetDontFragment(dontFragment);
        var address = NativeSocketAddress.FromEndpoint(destination);
        if (address.SendTo(_fd, payload, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) >= 0)
        {
            return HostSendResult.Sent;
        }
        int errno = Errno.Last;
        switch (errno)
        {
            case Errno.EMSGSIZE:
                mtu = ReadLocalMtu();
                return HostSendResult.TooBig;
            case Errno.EAGAIN or Errno.ENOBUFS:
                return HostSendResult.Dropped;
            case Errno.ENETUNREACH or Errno.EHOSTUNREACH or Errno.EPERM or Errno.EACCES:
                return HostSendResult.Unreachable;
            case Errno.ECONNREFUSED:
                // A port unreachable for an earlier datagram surfaced here; this one went out.
                return HostSendResult.Sent;
            default:
                Log.WarnLimited("udp-send", $"UDP to {destination}: {Errno.Describe(errno)}");
                return HostSendResult.Failed;
        }
    }

    private void SetHopLimit(int ttl)
    {
        if (ttl != _ttl)
        {
            Libc.SetSockOptInt(_fd, _v4 ? Libc.IPPROTO_IP : Libc.IPPROTO_IPV6, _v4 ? Libc.IP_TTL : Libc.IPV6_UNICAST_HOPS, ttl);
            _ttl = ttl;
        }
    }

    private void SetDontFragment(bool dontFragment)
    {
        int discovery = dontFragment ? Libc.IP_PMTUDISC_DO : Libc.IP_PMTUDISC_DONT;
        if (discovery != _discovery)
        {
            Libc.SetSockOptInt(_fd, _v4 ? Libc.IPPROTO_IP : Libc.IPPROTO_IPV6, _v4 ? Libc.IP_MTU_DISCOVER : Libc.IPV6_MTU_DISCOVER, discovery);
            _discovery = discovery;
        }
    }

    /// <summary>After EMSGSIZE, the kernel queued a local error whose info is the path MTU.</summary>
    private int ReadLocalMtu()
    {
        int mtu = 0;
        while (ReadError(out var error, out _, out _) && error.Origin == Libc.SO_EE_ORIGIN_LOCAL)
        {
            mtu = (int)error.Info;
        }
        return mtu > 0 ? mtu : 576;
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        if ((events & PollEvents.Error) != 0)
        {
            DrainErrors(now);
        }
        if ((events & PollEvents.Readable) != 0)
        {
            ReadDatagrams(now);
        }
    }

    private void ReadDatagrams(Instant now)
    {
        for (int i = 0; i < ReadBudget && _fd >= 0; i++)
        {
            var source = new NativeSocketAddress();
            nint n = source.ReceiveFrom(_fd, _events.ReceiveBuffer, Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.ECONNREFUSED)
                {
                    // A port unreachable, already read from the error queue.
                    continue;
                }
                return;
            }
            _events.OnHostDatagram(source.ToEndpoint(), (int)n, now);
        }
    }

    private void DrainErrors(Instant now)
    {
        for (int i = 0; i < ReadBudget && _fd >= 0; i++)
        {
            if (!ReadError(out var error, out var offender, out var destination))
            {
                return;
            }
            bool icmp = error.Origin == (_v4 ? Libc.SO_EE_ORIGIN_ICMP : Libc.SO_EE_ORIGIN_ICMP6);
            if (icmp && destination is { } original)
            {
                _events.OnHostIcmpError(
                    new HostIcmpError(error.Type, error.Code, offender ?? original.Address, original, error.Info, _lastErrorSequence), now);
            }
        }
    }

    /// <summary>Of an echo request the last error entry was about (a ping socket queues the request itself).</summary>
    private ushort _lastErrorSequence;

    /// <summary>Reads one entry of the error queue: the error, who sent it, and where our datagram was going.</summary>
    private bool ReadError(out Libc.SockExtendedErr error, out IpAddress? offender, out IpEndpoint? destination)
    {
        error = default;
        offender = null;
        destination = null;
        byte* data = stackalloc byte[64];
        byte* control = stackalloc byte[256];
        var name = new NativeSocketAddress();
        var iov = new Libc.IoVec { Base = data, Length = 64 };
        nint n = name.ReceiveMessage(_fd, &iov, 1, control, 256, Libc.MSG_ERRQUEUE | Libc.MSG_DONTWAIT);
        if (n < 0)
        {
            return false;
        }
        if (name.Length > 0)
        {
            destination = name.ToEndpoint();
        }
        _lastErrorSequence = n >= IcmpV4Message.HeaderLength ? (ushort)((data[6] << 8) | data[7]) : (ushort)0;
        var cmsg = (Libc.CMsgHdr*)control;
        if (cmsg->Length < (nuint)(sizeof(Libc.CMsgHdr) + sizeof(Libc.SockExtendedErr)))
        {
            return true;
        }
        var extended = (Libc.SockExtendedErr*)(control + sizeof(Libc.CMsgHdr));
        error = *extended;
        // SO_EE_OFFENDER: the sockaddr right after the extended error.
        offender = NativeSocketAddress.AddressAt((byte*)(extended + 1));
        return true;
    }

    public void Close()
    {
        if (_fd < 0)
        {
            return;
        }
        _loop.Unregister(_registration);
        _registration = PollRegistration.None;
        Libc.Close(_fd);
        _fd = -1;
    }
}


