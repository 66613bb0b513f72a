using System.Runtime.InteropServices;
using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Link;

/// <summary>Opening TAP devices through /dev/net/tun.</summary>
internal static unsafe class TunDevice
{
    private const nuint TUNSETIFF = 0x400454ca;
    private const nuint TUNSETOFFLOAD = 0x400454d0;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;
    private const short IFF_VNET_HDR = 0x4000;
    private const nint TUN_F_CSUM = 0x01;

    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct IfReq
    {
        public fixed byte Name[16];
        public short Flags;
    }

    /// <summary>
    /// Attaches to the TAP device <paramref name="name"/> in the calling thread's network
    /// namespace, creating it when it does not exist and the caller has CAP_NET_ADMIN. Each
    /// frame read or written carries a <see cref="Wire.VirtioNetHeader"/>, and the guest may
    /// leave transport checksums to Usernet: they guard against damage on a wire, and there
    /// is none, so neither the guest's kernel nor Usernet has to sum every payload byte.
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
        var request = new IfReq { Flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
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
        if (Libc.Ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0)
        {
            // Not fatal: the guest then completes every checksum itself, as without offload.
            Log.Debug($"TUNSETOFFLOAD {name}: {Errno.Describe(Errno.Last)}");
        }
        return fd;
    }
}
