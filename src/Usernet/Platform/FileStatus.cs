using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// What Usernet checks of a file before trusting it: its type, permission bits, owner and
/// links. Read with statx(2), of the path itself (a symbolic link is reported as one, never
/// followed) or of an open fd, which no rename can swap underneath.
/// </summary>
internal readonly record struct FileStatus(int Type, int Permissions, int Owner, uint Links)
{
    private const int TypeMask = 0xF000;
    private const int Directory = 0x4000;
    private const int Regular = 0x8000;
    private const int SymbolicLink = 0xA000;

    public bool IsDirectory => Type == Directory;

    public bool IsRegular => Type == Regular;

    public bool IsSymbolicLink => Type == SymbolicLink;

    /// <summary>Whether any group or other permission bit is set.</summary>
    public bool OthersMayUse => (Permissions & 0x3F) != 0;

    /// <summary>The permission bits as ls and chmod write them: "0700".</summary>
    public string Octal => Convert.ToString(Permissions, 8).PadLeft(4, '0');

    /// <summary>The path's own status, as lstat(2) gives it; false with errno when it cannot be read.</summary>
    public static unsafe bool TryOfPath(string path, out FileStatus status, out int errno)
    {
        Libc.StatxBuffer buffer;
        return Read(Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC, &buffer), &buffer, out status, out errno);
    }

    /// <summary>The status of what <paramref name="fd"/> has open, as fstat(2) gives it.</summary>
    public static unsafe bool TryOfFd(int fd, out FileStatus status, out int errno)
    {
        Libc.StatxBuffer buffer;
        return Read(Libc.Statx(fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC, &buffer), &buffer, out status, out errno);
    }

    private static unsafe bool Read(int result, Libc.StatxBuffer* buffer, out FileStatus status, out int errno)
    {
        if (result != 0)
        {
            errno = Errno.Last;
            status = default;
            return false;
        }
        errno = 0;
        status = new FileStatus(buffer->Mode & TypeMask, buffer->Mode & 0xFFF, (int)buffer->Uid, buffer->Links);
        return true;
    }
}
