using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Netns;

/// <summary>
/// The parent's handle on the namespaces of `usernet run`: it clones the init into new
/// network, mount and PID namespaces (and a user namespace when not root), maps the caller's
/// uid to root in it, sends the setup, and receives the TAP fd. The parent stays in the host
/// namespaces, so every host socket it opens is a real host socket.
/// </summary>
internal sealed class GuestNamespace : IDisposable
{
    private GuestNamespace(int initPid, ControlChannel channel, int tapFd)
    {
        InitPid = initPid;
        Channel = channel;
        TapFd = tapFd;
    }

    public int InitPid { get; }

    public ControlChannel Channel { get; }

    /// <summary>The TAP device's fd, now owned by the caller.</summary>
    public int TapFd { get; }

    public static bool IsRootless => Libc.GetEUid() != 0;

    /// <summary>
    /// Starts the init with <paramref name="command"/> and waits for it to hand over the TAP.
    /// With <paramref name="cgroup"/>, the init starts in that cgroup (for <see cref="GuestSetup.CgroupNamespace"/>).
    /// </summary>
    public static GuestNamespace Start(IReadOnlyList<string> command, GuestSetup setup, GuestCgroup? cgroup = null)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the usernet binary");
        var (channel, childFd) = ControlChannel.CreatePair();
        var arguments = new List<string> { self, GuestInit.CommandName, childFd.ToString(), "--" };
        arguments.AddRange(command);
        ulong flags = Libc.CLONE_NEWNET | Libc.CLONE_NEWNS | Libc.CLONE_NEWPID;
        bool rootless = IsRootless;
        if (rootless)
        {
            flags |= Libc.CLONE_NEWUSER;
        }
        int pid;
        try
        {
            pid = ProcessLauncher.Spawn(self, arguments, NativeStringArray.CurrentEnvironment(), flags,
                child =>
                {
                    if (rootless)
                    {
                        WriteIdentityMaps(child);
                    }
                    cgroup?.Enter(child);
                },
                keepFd: childFd);
        }
        catch (SystemCallException e) when (e.Call == "clone")
        {
            channel.Dispose();
            throw new InvalidOperationException(ExplainCloneFailure(e.Code, rootless));
        }
        finally
        {
            Libc.Close(childFd);
        }
        try
        {
            channel.Send(setup.ToJson());
            string? reply = channel.Receive(out int tapFd);
            if (reply == "tap" && tapFd >= 0)
            {
                return new GuestNamespace(pid, channel, tapFd);
            }
            if (tapFd >= 0)
            {
                Libc.Close(tapFd);
            }
            throw new InvalidOperationException(reply is not null && reply.StartsWith("error ", StringComparison.Ordinal)
                ? ExplainSetupFailure(reply[6..], rootless)
                : "the namespace init exited during setup");
        }
        catch
        {
            Libc.Kill(pid, Libc.SIGKILL);
            channel.Dispose();
            throw;
        }
    }

    /// <summary>Maps the caller to root inside the new user namespace (user_namespaces(7)).</summary>
    private static void WriteIdentityMaps(int pid)
    {
        int uid = Libc.GetUid();
        int gid = Libc.GetGid();
        File.WriteAllText($"/proc/{pid}/setgroups", "deny");
        File.WriteAllText($"/proc/{pid}/uid_map", $"0 {uid} 1");
        File.WriteAllText($"/proc/{pid}/gid_map", $"0 {gid} 1");
    }

    private static string ExplainCloneFailure(int errno, bool rootless)
    {
        string reason = Errno.Describe(errno);
        if (!rootless)
        {
            return $"cannot create the network namespace: {reason}";
        }
        var why = new List<string>();
        if (ReadSysctl("/proc/sys/user/max_user_namespaces") == "0")
        {
            why.Add("user.max_user_namespaces is 0");
        }
        if (ReadSysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0")
        {
            why.Add("kernel.unprivileged_userns_clone is 0");
        }
        if (ReadSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
        {
            why.Add("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)");
        }
        string detail = why.Count > 0 ? string.Join("; ", why) : "the kernel or a security policy forbids it";
        return $"cannot create a user namespace as an unprivileged user ({reason}): {detail}. " +
            "Run as root, or allow unprivileged user namespaces on this host.";
    }

    private static string ExplainSetupFailure(string message, bool rootless)
    {
        if (rootless && message.Contains("/dev/net/tun", StringComparison.Ordinal))
        {
            return $"{message}. Without root, /dev/net/tun must be readable and writable by every user (mode 0666, as distributions ship it; here: {DescribeTun()})";
        }
        return message;
    }

    private static string DescribeTun()
    {
        try
        {
            var mode = File.GetUnixFileMode("/dev/net/tun");
            return "mode " + Convert.ToString((int)mode, 8).PadLeft(4, '0');
        }
        catch (IOException)
        {
            return "missing";
        }
    }

    private static string? ReadSysctl(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Lets the init configure addresses: the stack is now running.</summary>
    public void Go() => Channel.Send("go");

    /// <summary>Relays a signal to the command.</summary>
    public void Signal(int signal)
    {
        try
        {
            Channel.Send($"signal {signal}");
        }
        catch (SystemCallException)
        {
            // The init is already gone; its exit is on its way to the loop.
        }
    }

    public void Dispose() => Channel.Dispose();
}
