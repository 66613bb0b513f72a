using System.Text;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Platform;

/// <summary>A sockaddr of any family this program uses, held by value.</summary>
internal unsafe struct NativeSocketAddress : IEquatable<NativeSocketAddress>
{
    private Libc.SockAddrStorage _storage;

    public int Length { get; private set; }

    public readonly int Family => _storage.Family;

    public static NativeSocketAddress FromEndpoint(IpEndpoint endpoint)
    {
        var address = new NativeSocketAddress();
        if (endpoint.Address.IsV4)
        {
            var v4 = (Libc.SockAddrIn*)&address._storage;
            v4->Family = Libc.AF_INET;
            v4->Port = (ushort)((endpoint.Port >> 8) | (endpoint.Port << 8));
            v4->Address = endpoint.Address.V4.NetworkOrder;
            address.Length = sizeof(Libc.SockAddrIn);
        }
        else
        {
            var v6 = (Libc.SockAddrIn6*)&address._storage;
            v6->Family = Libc.AF_INET6;
            v6->Port = (ushort)((endpoint.Port >> 8) | (endpoint.Port << 8));
            endpoint.Address.V6.Write(new Span<byte>(v6->Address, 16));
            address.Length = sizeof(Libc.SockAddrIn6);
        }
        return address;
    }

    public static NativeSocketAddress FromUnixPath(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108)
        {
            throw new ArgumentException($"unix socket path too long (max 107 bytes): {path}");
        }
        var address = new NativeSocketAddress();
        var un = (Libc.SockAddrUn*)&address._storage;
        un->Family = Libc.AF_UNIX;
        for (int i = 0; i < bytes.Length; i++)
        {
            un->Path[i] = bytes[i];
        }
        address.Length = 2 + bytes.Length + 1;
        return address;
    }

    /// <summary>The endpoint of an AF_INET or AF_INET6 address.</summary>
    public readonly IpEndpoint ToEndpoint()
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        {
            if (storage->Family == Libc.AF_INET)
            {
                var v4 = (Libc.SockAddrIn*)storage;
                return new IpEndpoint(Ipv4Address.FromNetworkOrder(v4->Address), Swap(v4->Port));
            }
            if (storage->Family == Libc.AF_INET6)
            {
                var v6 = (Libc.SockAddrIn6*)storage;
                var address = Ipv6Address.Read(new ReadOnlySpan<byte>(v6->Address, 16));
                IpAddress ip = address;
                // A v4-mapped peer of a dual-stack socket is an IPv4 peer.
                return new IpEndpoint(ip, Swap(v6->Port));
            }
        }
        throw new InvalidOperationException($"address family {Family} is not IP");
    }

    public readonly string? UnixPath
    {
        get
        {
            if (Family != Libc.AF_UNIX || Length <= 2)
            {
                return null;
            }
            fixed (Libc.SockAddrStorage* storage = &_storage)
            {
                var un = (Libc.SockAddrUn*)storage;
                int length = 0;
                while (length < Length - 2 && un->Path[length] != 0)
                {
                    length++;
                }
                return Encoding.UTF8.GetString(un->Path, length);
            }
        }
    }

    public readonly int Bind(int fd)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        {
            return Libc.Bind(fd, storage, Length);
        }
    }

    public readonly int Connect(int fd)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        {
            return Libc.Connect(fd, storage, Length);
        }
    }

    public readonly nint SendTo(int fd, ReadOnlySpan<byte> data, int flags)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        fixed (byte* bytes = data)
        {
            return Libc.SendTo(fd, bytes, data.Length, flags, storage, Length);
        }
    }

    /// <summary>recvfrom(2) into <paramref name="buffer"/>; the sender's address lands here.</summary>
    public nint ReceiveFrom(int fd, Span<byte> buffer, int flags)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        fixed (byte* bytes = buffer)
        {
            int length = sizeof(Libc.SockAddrStorage);
            nint n = Libc.RecvFrom(fd, bytes, buffer.Length, flags, storage, &length);
            Length = n >= 0 ? length : 0;
            return n;
        }
    }

    /// <summary>recvmsg(2) with a control buffer; the message's source address lands here.</summary>
    public nint ReceiveMessage(int fd, Libc.IoVec* iov, int iovCount, byte* control, int controlLength, int flags)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        {
            var message = new Libc.MsgHdr
            {
                Name = storage,
                NameLength = sizeof(Libc.SockAddrStorage),
                Iov = iov,
                IovLength = (nuint)iovCount,
                Control = control,
                ControlLength = (nuint)controlLength,
            };
            nint n = Libc.RecvMsg(fd, &message, flags);
            Length = n >= 0 ? message.NameLength : 0;
            return n;
        }
    }

    /// <summary>The IP address of a sockaddr in raw memory (as SO_EE_OFFENDER leaves it), or null.</summary>
    public static IpAddress? AddressAt(byte* sockaddr)
    {
        ushort family = *(ushort*)sockaddr;
        if (family == Libc.AF_INET)
        {
            return Ipv4Address.FromNetworkOrder(((Libc.SockAddrIn*)sockaddr)->Address);
        }
        if (family == Libc.AF_INET6)
        {
            return Ipv6Address.Read(new ReadOnlySpan<byte>(((Libc.SockAddrIn6*)sockaddr)->Address, 16));
        }
        return null;
    }

    /// <summary>accept4(2); the peer's address lands here.</summary>
    public int Accept(int listenFd, int flags)
    {
        fixed (Libc.SockAddrStorage* storage = &_storage)
        {
            int length = sizeof(Libc.SockAddrStorage);
            int fd = Libc.Accept4(listenFd, storage, &length, flags);
            Length = fd >= 0 ? length : 0;
            return fd;
        }
    }

    public static NativeSocketAddress LocalOf(int fd)
    {
        var address = new NativeSocketAddress();
        int length = sizeof(Libc.SockAddrStorage);
        if (Libc.GetSockName(fd, &address._storage, &length) == 0)
        {
            address.Length = length;
        }
        return address;
    }

    public static NativeSocketAddress PeerOf(int fd)
    {
        var address = new NativeSocketAddress();
        int length = sizeof(Libc.SockAddrStorage);
        if (Libc.GetPeerName(fd, &address._storage, &length) == 0)
        {
            address.Length = length;
        }
        return address;
    }

    /// <summary>The same bytes: the same peer, for tables of peers (compared without allocating).</summary>
    public readonly bool Equals(NativeSocketAddress other)
    {
        fixed (Libc.SockAddrStorage* mine = &_storage)
        {
            return Length == other.Length && new ReadOnlySpan<byte>(mine, Length).SequenceEqual(new ReadOnlySpan<byte>(&other._storage, other.Length));
        }
    }

    public override readonly bool Equals(object? obj) => obj is NativeSocketAddress other && Equals(other);

    public override readonly int GetHashCode()
    {
        fixed (Libc.SockAddrStorage* mine = &_storage)
        {
            var hash = new HashCode();
            hash.AddBytes(new ReadOnlySpan<byte>(mine, Length));
            return hash.ToHashCode();
        }
    }

    public override readonly string ToString() =>
        Family switch
        {
            Libc.AF_UNIX => $"unix:{UnixPath}",
            Libc.AF_INET or Libc.AF_INET6 => ToEndpoint().ToString(),
            _ => $"family {Family}",
        };

    private static ushort Swap(ushort value) => (ushort)((value >> 8) | (value << 8));
}
