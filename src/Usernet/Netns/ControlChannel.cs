using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Netns;

/// <summary>
/// The SOCK_SEQPACKET pair between `usernet run` and the init inside the namespace: short
/// text messages ("tap", "go", "signal 15", "error ..."), and the TAP fd passed with
/// SCM_RIGHTS. When one side dies the other reads end-of-file.
/// </summary>
internal sealed unsafe class ControlChannel : IDisposable
{
    private const int MaxMessage = 64 * 1024;

    public ControlChannel(int fd) => Fd = fd;

    public int Fd { get; }

    public static (ControlChannel Parent, int ChildFd) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, fds) < 0)
        {
            throw Errno.Exception("socketpair");
        }
        return (new ControlChannel(fds[0]), fds[1]);
    }

    public void Send(string message, int passFd = -1)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        fixed (byte* data = bytes)
        {
            var iov = new Libc.IoVec { Base = data, Length = (nuint)bytes.Length };
            byte* control = stackalloc byte[32];
            var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
            if (passFd >= 0)
            {
                new Span<byte>(control, 32).Clear();
                var cmsg = (Libc.CMsgHdr*)control;
                cmsg->Length = (nuint)(sizeof(Libc.CMsgHdr) + sizeof(int));
                cmsg->Level = Libc.SOL_SOCKET;
                cmsg->Type = Libc.SCM_RIGHTS;
                *(int*)(control + sizeof(Libc.CMsgHdr)) = passFd;
                header.Control = control;
                header.ControlLength = (nuint)(sizeof(Libc.CMsgHdr) + 8);
            }
            if (Libc.SendMsg(Fd, &header, Libc.MSG_NOSIGNAL) < 0)
            {
                throw Errno.Exception("send on control channel");
            }
        }
    }

    /// <summary>The next message, or null at end-of-file; a passed fd lands in <paramref name="receivedFd"/>.</summary>
    public string? Receive(out int receivedFd)
    {
        receivedFd = -1;
        byte[] bytes = new byte[MaxMessage];
        fixed (byte* data = bytes)
        {
            var iov = new Libc.IoVec { Base = data, Length = MaxMessage };
            byte* control = stackalloc byte[64];
            var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            nint n;
            do
            {
                n = Libc.RecvMsg(Fd, &header, Libc.MSG_CMSG_CLOEXEC);
            }
            while (n < 0 && Errno.Last == Errno.EINTR);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.ECONNRESET)
                {
                    return null;
                }
                throw Errno.Exception("receive on control channel", errno);
            }
            if (n == 0)
            {
                return null;
            }
            if (header.ControlLength >= (nuint)(sizeof(Libc.CMsgHdr) + sizeof(int)))
            {
                var cmsg = (Libc.CMsgHdr*)control;
                if (cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS)
                {
                    receivedFd = *(int*)(control + sizeof(Libc.CMsgHdr));
                }
            }
            return Encoding.UTF8.GetString(bytes, 0, (int)n);
        }
    }

    public string? Receive()
    {
        string? message = Receive(out int fd);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
        return message;
    }

    public void Dispose() => Libc.Close(Fd);
}
