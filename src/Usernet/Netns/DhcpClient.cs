using System.Buffers.Binary;
using System.Text;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Netns;

/// <summary>What a DHCP server gave.</summary>
internal sealed record DhcpLeaseInfo(
    Ipv4Address Address, int PrefixLength, Ipv4Address Router, IReadOnlyList<Ipv4Address> DnsServers,
    int? Mtu, IReadOnlyList<string> SearchDomains, TimeSpan LeaseTime);

/// <summary>
/// A minimal DHCP client for the guest side of `usernet run --addressing dhcp`: DISCOVER,
/// OFFER, REQUEST, ACK over a UDP socket bound to the interface, with the broadcast flag so
/// that replies reach a socket whose interface has no address yet.
/// </summary>
internal static unsafe class DhcpClient
{
    private const int SO_RCVTIMEO = 20;

    public static DhcpLeaseInfo Acquire(string interfaceName, MacAddress mac, TimeSpan timeout)
    {
        int fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Errno.Exception("socket");
        }
        try
        {
            byte[] name = Encoding.ASCII.GetBytes(interfaceName + "\0");
            fixed (byte* device = name)
            {
                if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_BINDTODEVICE, device, name.Length) < 0)
                {
                    throw Errno.Exception($"bind to {interfaceName}");
                }
            }
            Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_BROADCAST, 1);
            Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
            var local = NativeSocketAddress.FromEndpoint(new IpEndpoint(Ipv4Address.Any, DhcpMessage.ClientPort));
            if (local.Bind(fd) < 0)
            {
                throw Errno.Exception("bind to port 68");
            }
            long* timeval = stackalloc long[2];
            timeval[0] = 0;
            timeval[1] = 500_000;
            Libc.SetSockOpt(fd, Libc.SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
            uint xid = (uint)Random.Shared.Next();
            var deadline = DateTime.UtcNow + timeout;
            byte[] buffer = new byte[1500];
            while (DateTime.UtcNow < deadline)
            {
                Send(fd, buffer, xid, mac, DhcpMessageType.Discover, Ipv4Address.Any, Ipv4Address.Any);
                if (!Await(fd, buffer, xid, DhcpMessageType.Offer, out int length))
                {
                    continue;
                }
                var offer = new DhcpMessage(buffer.AsSpan(0, length));
                var offered = offer.YourAddress;
                var server = offer.TryGetOption(DhcpOption.ServerIdentifier, out var id) && id.Length == 4 ? Ipv4Address.Read(id) : Ipv4Address.Any;
                Send(fd, buffer, xid, mac, DhcpMessageType.Request, offered, server);
                if (Await(fd, buffer, xid, DhcpMessageType.Ack, out length))
                {
                    return Describe(new DhcpMessage(buffer.AsSpan(0, length)));
                }
            }
            throw new TimeoutException($"no DHCP lease on {interfaceName} within {timeout.TotalSeconds:0} s");
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    private static void Send(int fd, byte[] buffer, uint xid, MacAddress mac, DhcpMessageType type, Ipv4Address requested, Ipv4Address server)
    {
        var message = DhcpMessage.WriteRequest(buffer, xid, mac, Ipv4Address.Any, broadcast: true);
        var writer = new DhcpOptionWriter(buffer.AsSpan(DhcpMessage.FixedLength));
        writer.WriteByte(DhcpOption.MessageType, (byte)type);
        if (!requested.IsUnspecified)
        {
            writer.WriteAddress(DhcpOption.RequestedAddress, requested);
        }
        if (!server.IsUnspecified)
        {
            writer.WriteAddress(DhcpOption.ServerIdentifier, server);
        }
        writer.Write(DhcpOption.ParameterRequestList,
        [
            DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer, DhcpOption.DomainName,
            DhcpOption.InterfaceMtu, DhcpOption.DomainSearch,
        ]);
        writer.WriteEnd();
        _ = message;
        int length = Math.Max(300, DhcpMessage.FixedLength + writer.Length);
        var to = NativeSocketAddress.FromEndpoint(new IpEndpoint(Ipv4Address.Broadcast, DhcpMessage.ServerPort));
        if (to.SendTo(fd, buffer.AsSpan(0, length), 0) < 0)
        {
            throw Errno.Exception("send DHCP request");
        }
    }

    private static bool Await(int fd, byte[] buffer, uint xid, DhcpMessageType expected, out int length)
    {
        length = 0;
        for (int i = 0; i < 8; i++)
        {
            fixed (byte* data = buffer)
            {
                nint n = Libc.Recv(fd, data, buffer.Length, 0);
                if (n < 0)
                {
                    return false;
                }
                if (DhcpMessage.TryParse(buffer.AsSpan(0, (int)n), out var reply)
                    && reply.Op == DhcpOpcode.BootReply && reply.TransactionId == xid)
                {
                    if (reply.MessageType == DhcpMessageType.Nak)
                    {
                        return false;
                    }
                    if (reply.MessageType == expected)
                    {
                        length = (int)n;
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static DhcpLeaseInfo Describe(DhcpMessage ack)
    {
        int prefix = 24;
        if (ack.TryGetOption(DhcpOption.SubnetMask, out var mask) && mask.Length == 4)
        {
            prefix = System.Numerics.BitOperations.PopCount(BinaryPrimitives.ReadUInt32BigEndian(mask));
        }
        var router = ack.TryGetOption(DhcpOption.Router, out var r) && r.Length >= 4 ? Ipv4Address.Read(r) : Ipv4Address.Any;
        var dns = new List<Ipv4Address>();
        if (ack.TryGetOption(DhcpOption.DomainNameServer, out var d))
        {
            for (int i = 0; i + 4 <= d.Length; i += 4)
            {
                dns.Add(Ipv4Address.Read(d[i..]));
            }
        }
        int? mtu = ack.TryGetOption(DhcpOption.InterfaceMtu, out var m) && m.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(m) : null;
        var search = ack.TryGetOption(DhcpOption.DomainSearch, out var s) ? DecodeSearchList(s) : [];
        var lease = ack.TryGetOption(DhcpOption.LeaseTime, out var l) && l.Length == 4
            ? TimeSpan.FromSeconds(BinaryPrimitives.ReadUInt32BigEndian(l)) : TimeSpan.FromHours(1);
        return new DhcpLeaseInfo(ack.YourAddress, prefix, router, dns, mtu, search, lease);
    }

    /// <summary>Names in DNS wire format, with compression pointers inside the option (RFC 3397).</summary>
    public static List<string> DecodeSearchList(ReadOnlySpan<byte> data)
    {
        var names = new List<string>();
        int offset = 0;
        while (offset < data.Length)
        {
            var labels = new List<string>();
            int position = offset;
            int next = -1;
            // Only pointers can go back, so only they count against the bound; a label always
            // moves forward, and a legal name may have up to 127 of them.
            for (int hops = 0; position < data.Length && hops < 64;)
            {
                byte length = data[position];
                if (length == 0)
                {
                    position++;
                    break;
                }
                if ((length & 0xC0) == 0xC0)
                {
                    if (position + 1 >= data.Length)
                    {
                        return names;
                    }
                    if (next < 0)
                    {
                        next = position + 2;
                    }
                    position = ((length & 0x3F) << 8) | data[position + 1];
                    hops++;
                    continue;
                }
                if (position + 1 + length > data.Length)
                {
                    return names;
                }
                labels.Add(Encoding.ASCII.GetString(data.Slice(position + 1, length)));
                position += 1 + length;
            }
            offset = next >= 0 ? next : position;
            if (labels.Count > 0)
            {
                names.Add(string.Join('.', labels));
            }
        }
        return names;
    }
}
