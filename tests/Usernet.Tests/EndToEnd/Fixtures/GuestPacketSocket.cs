using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// An AF_PACKET socket bound to an interface inside another network namespace. The socket is
/// created on a throwaway thread that joins the namespace (setns is per thread), so the test
/// process itself never leaves the host namespace.
/// </summary>
internal sealed unsafe class GuestPacketSocket : IDisposable
{
    private const ushort EthPAll = 0x0003;
    private const int SO_RCVTIMEO = 20;

    private readonly int _fd;

    private GuestPacketSocket(int fd) => _fd = fd;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockAddrLl
    {
        public ushort Family;
        public ushort Protocol;
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public ulong Addr;
    }

    public static GuestPacketSocket Open(string netnsPath, string interfaceName)
    {
        int fd = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            int original = Libc.Open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            int target = Libc.Open(netnsPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try
            {
                if (original < 0 || target < 0 || Libc.SetNs(target, 0x40000000) < 0)
                {
                    throw Errno.Exception("setns into the guest");
                }
                int socket = Libc.Socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, (ushort)((EthPAll >> 8) | (EthPAll << 8)));
                if (socket < 0)
                {
                    throw Errno.Exception("socket(AF_PACKET)");
                }
                var address = new SockAddrLl
                {
                    Family = Libc.AF_PACKET,
                    Protocol = (ushort)((EthPAll >> 8) | (EthPAll << 8)),
                    IfIndex = (int)Libc.IfNameToIndex(interfaceName),
                };
                if (address.IfIndex == 0 || Libc.Bind(socket, &address, sizeof(SockAddrLl)) < 0)
                {
                    throw Errno.Exception($"bind to {interfaceName}");
                }
                fd = socket;
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (original >= 0)
                {
                    Libc.SetNs(original, 0x40000000);
                    Libc.Close(original);
                }
                if (target >= 0)
                {
                    Libc.Close(target);
                }
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }
        return new GuestPacketSocket(fd);
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* data = frame)
        {
            if (Libc.Send(_fd, data, frame.Length, 0) != frame.Length)
            {
                throw Errno.Exception("send frame");
            }
        }
    }

    /// <summary>Sets how long <see cref="Receive"/> waits.</summary>
    public void SetReceiveTimeout(TimeSpan timeout)
    {
        long* timeval = stackalloc long[2];
        timeval[0] = (long)timeout.TotalSeconds;
        timeval[1] = timeout.Milliseconds * 1000L;
        Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
    }

    /// <summary>The next frame on the interface (either direction), or null on timeout.</summary>
    public byte[]? Receive()
    {
        byte[] buffer = new byte[65600];
        fixed (byte* data = buffer)
        {
            nint n = Libc.Recv(_fd, data, buffer.Length, 0);
            return n < 0 ? null : buffer.AsSpan(0, (int)n).ToArray();
        }
    }

    public void Dispose() => Libc.Close(_fd);
}
