using System.Buffers.Binary;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// One raw ICMP socket shared by every guest ping flow, for hosts that forbid ping sockets
/// to this process but let it open raw ones. Each flow gets an echo identifier of its own on
/// the host; replies and errors (whose quoted request carries that identifier) are routed back
/// by it. A raw socket sees every ICMP packet the host receives, so anything else is ignored.
/// </summary>
internal sealed unsafe class RawIcmpChannel : IPollHandler
{
    private readonly EventLoop _loop;
    private readonly int _fd;
    private readonly bool _v6;
    private readonly Dictionary<ushort, RawEchoSocket> _byId = new();
    private readonly byte[] _receive = GC.AllocateArray<byte>(65536, pinned: true);
    private readonly byte[] _send = GC.AllocateArray<byte>(65536, pinned: true);
    private ushort _nextId = (ushort)Random.Shared.Next();
    private int _ttl = -1;

    private RawIcmpChannel(EventLoop loop, int fd, bool v6)
    {
        _loop = loop;
        _fd = fd;
        _v6 = v6;
        Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 1 << 20);
        loop.Register(fd, PollEvents.Readable, this);
    }

    public static RawIcmpChannel? TryOpen(EventLoop loop, bool v6)
    {
        int fd = v6
            ? Libc.Socket(Libc.AF_INET6, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, Libc.IPPROTO_ICMPV6)
            : Libc.Socket(Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, Libc.IPPROTO_ICMP);
        return fd < 0 ? null : new RawIcmpChannel(loop, fd, v6);
    }

    public RawEchoSocket? Open(IHostDatagramEvents events)
    {
        for (int tries = 0; tries < 65536; tries++)
        {
            ushort id = _nextId++;
            if (!_byId.ContainsKey(id))
            {
                var socket = new RawEchoSocket(this, id, events);
                _byId[id] = socket;
                return socket;
            }
        }
        return null;
    }

    internal void Forget(ushort id) => _byId.Remove(id);

    /// <summary>Sends an echo request with the flow's host identifier and the guest's TTL.</summary>
    internal HostSendResult Send(ushort id, IpEndpoint destination, ReadOnlySpan<byte> message, byte ttl)
    {
        if (destination.Address.IsV4 == _v6 || message.Length > _send.Length)
        {
            return HostSendResult.Failed;
        }
        if (ttl != _ttl)
        {
            Libc.SetSockOptInt(_fd, _v6 ? Libc.IPPROTO_IPV6 : Libc.IPPROTO_IP, _v6 ? Libc.IPV6_UNICAST_HOPS : Libc.IP_TTL, ttl);
            _ttl = ttl;
        }
        message.CopyTo(_send);
        var echo = new IcmpV4Message(_send.AsSpan(0, message.Length)) { Identifier = id };
        if (!_v6)
        {
            // For ICMPv6 the kernel fills the checksum itself (RFC 3542 §3.1).
            echo.FillChecksum();
        }
        var address = NativeSocketAddress.FromEndpoint(destination);
        if (address.SendTo(_fd, _send.AsSpan(0, message.Length), Libc.MSG_DONTWAIT) >= 0)
        {
            return HostSendResult.Sent;
        }
        return Errno.Last is Errno.ENETUNREACH or Errno.EHOSTUNREACH or Errno.EPERM ? HostSendResult.Unreachable : HostSendResult.Dropped;
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        for (int i = 0; i < 64; i++)
        {
            var from = new NativeSocketAddress();
            nint n = from.ReceiveFrom(_fd, _receive, Libc.MSG_DONTWAIT);
            if (n <= 0)
            {
                return;
            }
            if (_v6)
            {
                Dispatch6(_receive.AsSpan(0, (int)n), from.ToEndpoint().Address, now);
            }
            else
            {
                Dispatch(_receive.AsSpan(0, (int)n), from.ToEndpoint().Address, now);
            }
        }
    }

    /// <summary>A raw ICMPv6 socket returns the message alone; find whose reply or error this is.</summary>
    private void Dispatch6(Span<byte> message, IpAddress source, Instant now)
    {
        if (message.Length < Icmpv6Message.HeaderLength)
        {
            return;
        }
        var icmp = new Icmpv6Message(message);
        if (icmp.Type == Icmpv6Type.EchoReply)
        {
            if (_byId.TryGetValue(icmp.Identifier, out var socket))
            {
                socket.Deliver(source, message, now);
            }
            return;
        }
        if (icmp.Type is not (Icmpv6Type.DestinationUnreachable or Icmpv6Type.TimeExceeded or Icmpv6Type.PacketTooBig))
        {
            return;
        }
        // The error quotes our request: the IPv6 header, then the echo header with our identifier.
        var quoted = icmp.Body;
        if (quoted.Length < Ipv6Packet.HeaderLength + Icmpv6Message.HeaderLength || quoted[6] != IpProtocol.Icmpv6
            || quoted[Ipv6Packet.HeaderLength] != Icmpv6Type.EchoRequest)
        {
            return;
        }
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(quoted[(Ipv6Packet.HeaderLength + 4)..]);
        ushort sequence = BinaryPrimitives.ReadUInt16BigEndian(quoted[(Ipv6Packet.HeaderLength + 6)..]);
        if (_byId.TryGetValue(id, out var owner))
        {
            var destination = new IpEndpoint(Ipv6Address.Read(quoted[24..]), 0);
            owner.Error(new HostIcmpError(icmp.Type, icmp.Code, source, destination, icmp.Word, sequence), now);
        }
    }

    /// <summary>A raw IPv4 socket returns the IP header too; find whose reply or error this is.</summary>
    private void Dispatch(Span<byte> packet, IpAddress source, Instant now)
    {
        if (Ipv4Packet.TryParse(packet, out var ip) != Ipv4ParseError.None || ip.Protocol != IpProtocol.Icmp)
        {
            return;
        }
        var payload = ip.Payload;
        if (payload.Length < IcmpV4Message.HeaderLength)
        {
            return;
        }
        var icmp = new IcmpV4Message(payload);
        if (icmp.Type == IcmpV4Type.EchoReply)
        {
            if (_byId.TryGetValue(icmp.Identifier, out var socket))
            {
                socket.Deliver(source, payload, now);
            }
            return;
        }
        if (icmp.Type is not (IcmpV4Type.DestinationUnreachable or IcmpV4Type.TimeExceeded))
        {
            return;
        }
        // The error quotes our request: its IP header, then the echo header with our identifier.
        var quoted = icmp.Payload;
        if (quoted.Length < Ipv4Packet.MinHeaderLength || quoted[0] >> 4 != 4)
        {
            return;
        }
        int headerLength = (quoted[0] & 0x0F) * 4;
        if (quoted.Length < headerLength + IcmpV4Message.HeaderLength || quoted[9] != IpProtocol.Icmp
            || quoted[headerLength] != IcmpV4Type.EchoRequest)
        {
            return;
        }
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(quoted[(headerLength + 4)..]);
        ushort sequence = BinaryPrimitives.ReadUInt16BigEndian(quoted[(headerLength + 6)..]);
        if (_byId.TryGetValue(id, out var owner))
        {
            var destination = new IpEndpoint(Ipv4Address.Read(quoted[16..]), 0);
            owner.Error(new HostIcmpError(icmp.Type, icmp.Code, source, destination, icmp.NextHopMtu, sequence), now);
        }
    }
}

/// <summary>A guest ping flow's share of the raw ICMP socket.</summary>
internal sealed class RawEchoSocket(RawIcmpChannel channel, ushort id, IHostDatagramEvents events) : IHostDatagramSocket
{
    private bool _closed;

    public HostSendResult Send(IpEndpoint destination, ReadOnlySpan<byte> payload, byte ttl, bool dontFragment, out int mtu)
    {
        mtu = 0;
        return _closed ? HostSendResult.Failed : channel.Send(id, destination, payload, ttl);
    }

    internal void Deliver(IpAddress source, ReadOnlySpan<byte> reply, Instant now)
    {
        var buffer = events.ReceiveBuffer;
        if (reply.Length > buffer.Length)
        {
            return;
        }
        reply.CopyTo(buffer);
        events.OnHostDatagram(new IpEndpoint(source, 0), reply.Length, now);
    }

    internal void Error(in HostIcmpError error, Instant now) => events.OnHostIcmpError(error, now);

    public void Close()
    {
        if (!_closed)
        {
            _closed = true;
            channel.Forget(id);
        }
    }
}
