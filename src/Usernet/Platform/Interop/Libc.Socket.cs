using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, void* address, int length);

    [LibraryImport(Library, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, void* address, int length);

    [LibraryImport(Library, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(Library, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, void* address, int* length, int flags);

    [LibraryImport(Library, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, EntryPoint = "recvfrom", SetLastError = true)]
    public static partial nint RecvFrom(int fd, byte* buffer, nint length, int flags, void* address, int* addressLength);

    [LibraryImport(Library, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Library, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Library, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, byte* buffer, nint length, int flags, void* address, int addressLength);

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Library, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, int length);

    [LibraryImport(Library, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, int* length);

    [LibraryImport(Library, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, void* address, int* length);

    [LibraryImport(Library, EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, void* address, int* length);

    public const int AF_UNSPEC = 0;
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_NETLINK = 16;
    public const int AF_PACKET = 17;

    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int SO_ERROR = 4;
    public const int SO_BROADCAST = 6;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_KEEPALIVE = 9;
    public const int SO_LINGER = 13;
    public const int SO_PEERCRED = 17;
    public const int SO_BINDTODEVICE = 25;
    public const int SO_PEEK_OFF = 42;

    public const int SCM_RIGHTS = 1;

    public const int IPPROTO_IP = 0;
    public const int IPPROTO_TCP = 6;
    public const int IPPROTO_UDP = 17;
    public const int IPPROTO_IPV6 = 41;
    public const int TCP_NODELAY = 1;
    public const int TCP_KEEPIDLE = 4;
    public const int TCP_KEEPINTVL = 5;
    public const int TCP_KEEPCNT = 6;
    public const int IPV6_V6ONLY = 26;

    public const int IP_TTL = 2;
    public const int IP_MTU_DISCOVER = 10;
    public const int IP_RECVERR = 11;
    public const int IP_MTU = 14;
    public const int IP_PMTUDISC_DONT = 0;
    public const int IP_PMTUDISC_DO = 2;
    public const int IPV6_UNICAST_HOPS = 16;
    public const int IPV6_MTU_DISCOVER = 23;
    public const int IPV6_MTU = 24;
    public const int IPV6_RECVERR = 25;
    public const int IPV6_PMTUDISC_DONT = 0;
    public const int IPV6_PMTUDISC_DO = 2;
    public const int IPPROTO_ICMP = 1;
    public const int IPPROTO_ICMPV6 = 58;
    public const int MSG_ERRQUEUE = 0x2000;

    /// <summary>Where a queued error came from (linux/errqueue.h).</summary>
    public const byte SO_EE_ORIGIN_LOCAL = 1;
    public const byte SO_EE_ORIGIN_ICMP = 2;
    public const byte SO_EE_ORIGIN_ICMP6 = 3;

    /// <summary>struct sock_extended_err; the offender's sockaddr follows it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockExtendedErr
    {
        public uint Errno;
        public byte Origin;
        public byte Type;
        public byte Code;
        public byte Pad;
        public uint Info;
        public uint Data;
    }

    /// <summary>Bytes in a TCP socket's send queue not yet acknowledged by the peer (SIOCOUTQ).</summary>
    public const nuint SIOCOUTQ = 0x5411;

    public const int MSG_PEEK = 0x2;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public int NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>struct sockaddr_in; port and address in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;
    }

    /// <summary>struct sockaddr_in6; port in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 28)]
    public struct SockAddrIn6
    {
        public ushort Family;
        public ushort Port;
        public uint FlowInfo;
        public fixed byte Address[16];
        public uint ScopeId;
    }

    /// <summary>struct sockaddr_un.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 110)]
    public struct SockAddrUn
    {
        public ushort Family;
        public fixed byte Path[108];
    }

    /// <summary>Big enough for any address family this program uses.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    public struct SockAddrStorage
    {
        public ushort Family;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Linger
    {
        public int OnOff;
        public int Seconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public int Uid;
        public int Gid;
    }

    public static int SetSockOptInt(int fd, int level, int name, int value) =>
        SetSockOpt(fd, level, name, &value, sizeof(int));

    public static int GetSockOptInt(int fd, int level, int name, out int value)
    {
        int result;
        int length = sizeof(int);
        int rc = GetSockOpt(fd, level, name, &result, &length);
        value = result;
        return rc;
    }
}
