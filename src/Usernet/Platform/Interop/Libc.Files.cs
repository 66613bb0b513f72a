using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, int mode);

    [LibraryImport(Library, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, int mode);

    [LibraryImport(Library, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    /// <summary>statx(2): one layout on every architecture, unlike struct stat.</summary>
    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int directoryFd, string path, int flags, uint mask, StatxBuffer* buffer);

    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;

    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;

    /// <summary>STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID: what <see cref="FileStatus"/> reads.</summary>
    public const uint STATX_BASIC = 0x1 | 0x2 | 0x4 | 0x8;

    /// <summary>struct statx (256 bytes); only the fields read are named.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatxBuffer
    {
        [FieldOffset(16)]
        public uint Links;

        [FieldOffset(20)]
        public uint Uid;

        [FieldOffset(28)]
        public ushort Mode;
    }
}
