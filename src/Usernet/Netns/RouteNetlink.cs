using System.Buffers.Binary;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Netns;

/// <summary>
/// Just enough rtnetlink (RFC 3549, linux/rtnetlink.h) to configure the guest's interfaces:
/// bring a link up with an MTU and MAC, add addresses, add a default route. Each request
/// asks for an ACK and turns a kernel error into an exception naming the operation.
/// </summary>
internal sealed unsafe class RouteNetlink : IDisposable
{
    private const int NETLINK_ROUTE = 0;
    private const ushort RTM_NEWLINK = 16;
    private const ushort RTM_NEWADDR = 20;
    private const ushort RTM_NEWROUTE = 24;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLM_F_ACK = 0x4;
    private const ushort NLM_F_EXCL = 0x200;
    private const ushort NLM_F_CREATE = 0x400;
    private const ushort IFLA_ADDRESS = 1;
    private const ushort IFLA_MTU = 4;
    private const ushort IFA_ADDRESS = 1;
    private const ushort IFA_LOCAL = 2;
    private const ushort IFA_FLAGS = 8;
    private const uint IFA_F_NODAD = 0x02;
    private const ushort RTA_GATEWAY = 5;
    private const ushort RTA_OIF = 4;
    private const ushort RTA_PRIORITY = 6;
    private const uint IFF_UP = 0x1;
    private const byte RT_TABLE_MAIN = 254;
    private const byte RTPROT_BOOT = 3;
    private const byte RT_SCOPE_UNIVERSE = 0;
    private const byte RTN_UNICAST = 1;

    private readonly int _fd;
    private readonly byte[] _buffer = new byte[8192];
    private uint _sequence;

    public RouteNetlink()
    {
        _fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (_fd < 0)
        {
            throw Errno.Exception("socket(AF_NETLINK)");
        }
    }

    public static int IndexOf(string name)
    {
        uint index = Libc.IfNameToIndex(name);
        if (index == 0)
        {
            throw Errno.Exception($"no interface {name}");
        }
        return (int)index;
    }

    /// <summary>Sets the link up, with an MTU and MAC when given.</summary>
    public void SetLinkUp(int index, int? mtu = null, MacAddress? mac = null)
    {
        var message = new MessageBuilder(_buffer, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ++_sequence);
        // struct ifinfomsg: family, pad, type, index, flags, change
        Span<byte> info = message.Reserve(16);
        info.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(info[8..], IFF_UP);
        BinaryPrimitives.WriteUInt32LittleEndian(info[12..], IFF_UP);
        if (mtu is { } m)
        {
            message.AddUInt32(IFLA_MTU, (uint)m);
        }
        if (mac is { } address)
        {
            Span<byte> bytes = stackalloc byte[6];
            address.Write(bytes);
            message.Add(IFLA_ADDRESS, bytes);
        }
        Execute(message.Finish(), $"set link {index} up");
    }

    public void AddAddress(int index, IpAddress address, int prefixLength)
    {
        var message = new MessageBuilder(_buffer, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ++_sequence);
        // struct ifaddrmsg: family, prefixlen, flags, scope, index
        Span<byte> info = message.Reserve(8);
        info.Clear();
        info[0] = (byte)(address.IsV4 ? Libc.AF_INET : Libc.AF_INET6);
        info[1] = (byte)prefixLength;
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], index);
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteAddress(address, bytes);
        message.Add(IFA_LOCAL, bytes[..length]);
        message.Add(IFA_ADDRESS, bytes[..length]);
        if (!address.IsV4)
        {
            // The stack is the only other node on this link: duplicate detection only delays use.
            message.AddUInt32(IFA_FLAGS, IFA_F_NODAD);
        }
        Execute(message.Finish(), $"add address {address}/{prefixLength}");
    }

    /// <param name="metric">The route's priority; 0 leaves the kernel's default.</param>
    public void AddDefaultRoute(IpAddress gateway, int index, uint metric = 0)
    {
        var message = new MessageBuilder(_buffer, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ++_sequence);
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
        Span<byte> info = message.Reserve(12);
        info.Clear();
        info[0] = (byte)(gateway.IsV4 ? Libc.AF_INET : Libc.AF_INET6);
        info[4] = RT_TABLE_MAIN;
        info[5] = RTPROT_BOOT;
        info[6] = RT_SCOPE_UNIVERSE;
        info[7] = RTN_UNICAST;
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteAddress(gateway, bytes);
        message.Add(RTA_GATEWAY, bytes[..length]);
        message.AddUInt32(RTA_OIF, (uint)index);
        if (metric != 0)
        {
            message.AddUInt32(RTA_PRIORITY, metric);
        }
        Execute(message.Finish(), $"add default route via {gateway}");
    }

    private static int WriteAddress(IpAddress address, Span<byte> destination)
    {
        if (address.IsV4)
        {
            address.V4.Write(destination);
            return 4;
        }
        address.V6.Write(destination);
        return 16;
    }

    private void Execute(int length, string what)
    {
        fixed (byte* data = _buffer)
        {
            if (Libc.Send(_fd, data, length, 0) != length)
            {
                throw Errno.Exception($"netlink: {what}");
            }
            while (true)
            {
                nint n = Libc.Recv(_fd, data, _buffer.Length, 0);
                if (n < 0)
                {
                    throw Errno.Exception($"netlink: {what}");
                }
                var reply = new ReadOnlySpan<byte>(data, (int)n);
                while (reply.Length >= 16)
                {
                    int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(reply);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(reply[4..]);
                    uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(reply[8..]);
                    if (messageLength < 16 || messageLength > reply.Length)
                    {
                        break;
                    }
                    if (type == NLMSG_ERROR && sequence == _sequence)
                    {
                        int error = -BinaryPrimitives.ReadInt32LittleEndian(reply[16..]);
                        if (error != 0)
                        {
                            throw new SystemCallException($"netlink: {what}", error);
                        }
                        return;
                    }
                    reply = reply[((messageLength + 3) & ~3)..];
                }
            }
        }
    }

    public void Dispose() => Libc.Close(_fd);

    /// <summary>Lays out one netlink message with 4-byte aligned attributes.</summary>
    private ref struct MessageBuilder
    {
        private readonly Span<byte> _buffer;
        private int _length;

        public MessageBuilder(Span<byte> buffer, ushort type, ushort flags, uint sequence)
        {
            _buffer = buffer;
            _buffer[..16].Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[4..], type);
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[6..], flags);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[8..], sequence);
            _length = 16;
        }

        public Span<byte> Reserve(int length)
        {
            var span = _buffer.Slice(_length, length);
            _length += (length + 3) & ~3;
            return span;
        }

        public void Add(ushort type, scoped ReadOnlySpan<byte> value)
        {
            Span<byte> attribute = Reserve(4 + value.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + value.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], type);
            value.CopyTo(attribute[4..]);
        }

        public void AddUInt32(ushort type, uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
            Add(type, bytes);
        }

        public int Finish()
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
            return _length;
        }
    }
}
