using System.Runtime.InteropServices;
using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Link;

/// <summary>Opening TAP devices through /dev/net/tun.</summary>
internal static unsafe class TunDevice
{
    private const nuint TUNSETIFF = 0x400454ca;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;

    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct IfReq
    {
        public fixed byte Name[16];
        public short Flags;
    }

    /// <summary>
    /// Attaches to the TAP device <paramref name="name"/> in the calling thread's network
    /// namespace, creating it when it does not exist and the caller has CAP_NET_ADMIN.
    /// </summary>
    public static int OpenTap(string name)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length is 0 or > 15)
        {
            throw new ArgumentException($"invalid interface name '{name}' (1 to 15 bytes)");
        }
        int fd = Libc.Open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Errno.Exception("open /dev/net/tun");
        }
        var request = new IfReq { Flags = IFF_TAP | IFF_NO_PI };
        for (int i = 0; i < nameBytes.Length; i++)
        {
            request.Name[i] = nameBytes[i];
        }
        if (Libc.Ioctl(fd, TUNSETIFF, &request) < 0)
        {
            int errno = Errno.Last;
            Libc.Close(fd);
            throw new SystemCallException($"TUNSETIFF {name}", errno);
        }
        return fd;
    }
}
