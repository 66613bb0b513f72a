using System.Runtime.InteropServices;
using System.Text;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Netns;

/// <summary>
/// The first process in the namespaces that `usernet run` creates (PID 1 of its PID
/// namespace). It creates the TAP device and passes its fd out to the parent, configures the
/// interfaces and resolv.conf, then starts the command, forwards the signals the parent relays,
/// reaps orphans, and exits with the command's status. When it exits the kernel ends every
/// process left in the namespace, so nothing outlives a run.
/// </summary>
internal static class GuestInit
{
    public const string CommandName = "__init";

    /// <summary>Exit status for a failure of Usernet itself, as docker run uses.</summary>
    public const int SetupFailed = 125;

    private static readonly List<PosixSignalRegistration> SignalRegistrations = new();

    public static int Run(string[] args)
    {
        // args: __init FD -- CMD [ARGS...]
        if (args.Length < 4 || args[2] != "--" || !int.TryParse(args[1], out int fd))
        {
            Console.Error.WriteLine("usernet: __init is internal to `usernet run`");
            return 2;
        }
        Libc.SetCloseOnExec(fd, true);
        // Never closed here: the process's exit closes it. The signal relay thread reads it until
        // then, and takes a failed read for the parent gone, which kills the guest and exits 137.
        // Closed on Main's return, a command that ended before that thread first read (a loaded
        // machine, `usernet run -- true`) turned exit 0 into 137.
        var channel = new ControlChannel(fd);
        IgnoreTerminalSignals();
        string[] command = args[3..];
        string? setupText = channel.Receive();
        if (setupText is null)
        {
            return SetupFailed;
        }
        try
        {
            Configure(channel, GuestSetup.FromJson(setupText));
        }
        catch (Exception e)
        {
            TrySend(channel, "error " + e.Message);
            return SetupFailed;
        }
        int pid;
        try
        {
            pid = ProcessLauncher.Spawn(command[0], command, NativeStringArray.CurrentEnvironment());
        }
        catch (ProcessLauncher.ExecFailedException e)
        {
            string hint = e.ExitCode == 127 ? CommandPackages.Hint(command[0]) : "";
            Console.Error.WriteLine($"usernet: {e.Message}{hint}");
            return e.ExitCode;
        }
        var relay = new Thread(() => RelaySignals(channel, pid)) { IsBackground = true, Name = "signal relay" };
        relay.Start();
        return ReapUntil(pid);
    }

    private static void Configure(ControlChannel channel, GuestSetup setup)
    {
        // Mounts made here must stay here: without this, a shared / would carry them to the host.
        Check(Libc.Mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null), "make mounts private");
        Check(Libc.Mount("proc", "/proc", "proc", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null), "mount /proc");
        RemountSysfs(carryCgroups: !setup.CgroupNamespace);
        if (setup.CgroupNamespace)
        {
            EnterCgroupNamespace();
        }
        if (setup.PrivateRun || setup.Binds.Count > 0)
        {
            MountRunAndBinds(setup);
        }

        int tap = TunDevice.OpenTap(setup.TapName);
        channel.Send("tap", tap);
        Libc.Close(tap);

        using var netlink = new RouteNetlink();
        netlink.SetLinkUp(RouteNetlink.IndexOf("lo"));
        int index = RouteNetlink.IndexOf(setup.TapName);
        ConfigureIpv6Sysctls(setup);
        netlink.SetLinkUp(index, setup.Mtu, setup.Mac);

        string? go = channel.Receive();
        if (go != "go")
        {
            throw new InvalidOperationException("the parent went away before the stack started");
        }
        var nameservers = setup.Nameservers;
        var search = setup.SearchDomains;
        switch (setup.Addressing)
        {
            case GuestAddressing.Static:
                if (setup.Ipv4)
                {
                    netlink.AddAddress(index, setup.Address, setup.PrefixLength);
                    netlink.AddDefaultRoute(setup.Gateway, index);
                }
                if (setup.Ipv6)
                {
                    // SLAAC adds a second address when the router advertisement arrives; this
                    // one and the route are there at once, so the command need not wait for it.
                    // The route has a metric of its own, so that the advertisement's identical
                    // route (metric 1024) lives beside it instead of clashing with it.
                    netlink.AddAddress(index, setup.Address6, setup.PrefixLength6);
                    netlink.AddDefaultRoute(setup.Gateway6, index, metric: 512);
                }
                break;
            case GuestAddressing.Dhcp when !setup.Ipv4:
                // IPv6 only: the router advertisement configures it (SLAAC and its default route).
                break;
            case GuestAddressing.Dhcp:
                var lease = DhcpClient.Acquire(setup.TapName, setup.Mac, TimeSpan.FromSeconds(10));
                if (lease.Mtu is { } mtu && mtu != setup.Mtu)
                {
                    netlink.SetLinkUp(index, mtu);
                }
                netlink.AddAddress(index, lease.Address, lease.PrefixLength);
                if (!lease.Router.IsUnspecified)
                {
                    netlink.AddDefaultRoute(lease.Router, index);
                }
                nameservers = lease.DnsServers.Select(a => a.ToString()).Concat(setup.Ipv6 ? [setup.Nameservers[^1]] : []).ToList();
                search = lease.SearchDomains;
                break;
        }
        if (setup.PrivateResolvConf)
        {
            BindResolvConf(nameservers, search, setup.PrivateRun);
        }
        channel.Send("ready");
    }

    /// <summary>
    /// IPv6 on the TAP: off entirely when the guest is not to have it; otherwise without
    /// duplicate address detection (the stack is the only other node on the link, and DAD would
    /// keep addresses tentative for a second after start).
    /// </summary>
    private static void ConfigureIpv6Sysctls(GuestSetup setup)
    {
        string directory = $"/proc/sys/net/ipv6/conf/{setup.TapName}";
        if (!Directory.Exists(directory))
        {
            return;
        }
        if (!setup.Ipv6)
        {
            File.WriteAllText(Path.Combine(directory, "disable_ipv6"), "1");
            return;
        }
        File.WriteAllText(Path.Combine(directory, "accept_dad"), "0");
        File.WriteAllText(Path.Combine(directory, "accept_ra"), "1");
    }

    /// <summary>
    /// sysfs shows the devices of the network namespace that mounted it, so the host's /sys
    /// would list the host's interfaces. Like `ip netns exec`, mount a fresh one. The cgroup
    /// tree under it is carried over as a detached copy (<paramref name="carryCgroups"/>),
    /// because a fresh /sys would hide it and a user namespace may not mount a new one.
    /// </summary>
    private static void RemountSysfs(bool carryCgroups)
    {
        int cgroups = carryCgroups && Directory.Exists("/sys/fs/cgroup") ? Libc.CloneMountTree("/sys/fs/cgroup") : -1;
        try
        {
            Libc.Umount2("/sys", Libc.MNT_DETACH);
            if (Libc.Mount("sysfs", "/sys", "sysfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null) < 0)
            {
                Log.Warn($"mount /sys: {Errno.Describe(Errno.Last)}; /sys shows the host's devices");
                return;
            }
            if (cgroups >= 0 && Libc.AttachMountTree(cgroups, "/sys/fs/cgroup") < 0)
            {
                Log.Warn($"remount /sys/fs/cgroup: {Errno.Describe(Errno.Last)}");
            }
        }
        finally
        {
            if (cgroups >= 0)
            {
                Libc.Close(cgroups);
            }
        }
    }

    /// <summary>
    /// The guest's own cgroup tree: the parent started this init in a cgroup of its own (see
    /// <see cref="GuestCgroup"/>), which becomes the root of a new cgroup namespace, so that
    /// cgroup2 mounted here shows that cgroup and what the guest creates below it, never the
    /// host's tree. Then, as Docker's dind does: cgroup v2 lets no process sit in a cgroup that
    /// hands controllers to its children (the no-internal-process rule), so this init moves to
    /// a leaf, /init, and every controller the host granted is handed down to the guest's cgroups.
    /// </summary>
    private static void EnterCgroupNamespace()
    {
        Check(Libc.Unshare((int)Libc.CLONE_NEWCGROUP), "create the cgroup namespace");
        Check(Libc.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, null), "mount cgroup2 on /sys/fs/cgroup");
        Directory.CreateDirectory("/sys/fs/cgroup/init");
        // 0 is the writer: this process, with all its threads.
        File.WriteAllText("/sys/fs/cgroup/init/cgroup.procs", "0");
        string[] controllers = File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (controllers.Length > 0)
        {
            File.WriteAllText("/sys/fs/cgroup/cgroup.subtree_control", string.Join(' ', controllers.Select(c => "+" + c)));
        }
    }

    /// <summary>
    /// A fresh tmpfs on /run (<see cref="GuestSetup.PrivateRun"/>), then the host directories of
    /// <see cref="GuestSetup.Binds"/>. Each source is cloned before /run is covered, since it may
    /// lie under the host's /run; a target under the new /run is created there.
    /// </summary>
    private static void MountRunAndBinds(GuestSetup setup)
    {
        var trees = new List<(GuestBind Bind, int Fd)>();
        try
        {
            foreach (var bind in setup.Binds)
            {
                int fd = Libc.CloneMountTree(bind.Source);
                if (fd < 0)
                {
                    throw Errno.Exception($"bind {bind.Source}");
                }
                trees.Add((bind, fd));
            }
            if (setup.PrivateRun)
            {
                Check(Libc.Mount("tmpfs", "/run", "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV, "mode=755"), "mount a tmpfs on /run");
            }
            foreach (var (bind, fd) in trees)
            {
                Directory.CreateDirectory(bind.Target);
                Check(Libc.AttachMountTree(fd, bind.Target), $"bind {bind.Source} on {bind.Target}");
            }
        }
        finally
        {
            foreach (var (_, fd) in trees)
            {
                Libc.Close(fd);
            }
        }
    }

    /// <summary>
    /// Puts a resolv.conf naming our DNS over /etc/resolv.conf in this mount namespace only.
    /// The source is a uniquely named temporary file, unlinked as soon as it is mounted (the
    /// mount keeps it alive), so nothing is left behind. A memfd or O_TMPFILE would leave no
    /// name at all, but mount(2) refuses to bind either.
    /// </summary>
    private static void BindResolvConf(IReadOnlyList<string> nameservers, IReadOnlyList<string> search, bool privateRun)
    {
        var text = new StringBuilder("# written by usernet run for this namespace\n");
        foreach (string server in nameservers)
        {
            text.Append("nameserver ").Append(server).Append('\n');
        }
        if (search.Count > 0)
        {
            text.Append("search ").Append(string.Join(' ', search)).Append('\n');
        }
        if (!File.Exists("/etc/resolv.conf"))
        {
            // A link into the host's /run (systemd-resolved's stub-resolv.conf) points into the
            // guest's own /run once that is a fresh tmpfs: the file is written there instead.
            var link = new FileInfo("/etc/resolv.conf");
            if (privateRun && link.LinkTarget is not null && link.ResolveLinkTarget(returnFinalTarget: true) is { } target
                && target.FullName.StartsWith("/run/", StringComparison.Ordinal))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target.FullName)!);
                File.WriteAllText(target.FullName, text.ToString());
            }
            return;
        }
        string directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string path = Path.Combine(directory, $"usernet-resolv-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(path, text.ToString());
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            Check(Libc.Mount(path, "/etc/resolv.conf", null, Libc.MS_BIND, null), "bind-mount /etc/resolv.conf");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Signals from the terminal reach the command directly (same process group); the parent
    /// relays the rest over the channel. So the init itself ignores them.
    /// </summary>
    private static void IgnoreTerminalSignals()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            SignalRegistrations.Add(PosixSignalRegistration.Create(signal, context => context.Cancel = true));
        }
    }

    private static void RelaySignals(ControlChannel channel, int pid)
    {
        while (true)
        {
            string? message;
            try
            {
                message = channel.Receive();
            }
            catch (SystemCallException)
            {
                message = null;
            }
            if (message is null)
            {
                // The parent is gone: without it the guest has no network, so end the run.
                Libc.Kill(-1, Libc.SIGKILL);
                Environment.Exit(137);
                return;
            }
            if (message.StartsWith("signal ", StringComparison.Ordinal) && int.TryParse(message.AsSpan(7), out int signal))
            {
                Libc.Kill(pid, signal);
            }
        }
    }

    /// <summary>As PID 1, reaps every child (orphans are re-parented here) until the command ends.</summary>
    private static unsafe int ReapUntil(int commandPid)
    {
        while (true)
        {
            int status;
            int pid = Libc.WaitPid(-1, &status, 0);
            if (pid < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                return SetupFailed;
            }
            if (pid == commandPid)
            {
                return Libc.ShellExitCode(status);
            }
        }
    }

    private static void TrySend(ControlChannel channel, string message)
    {
        try
        {
            channel.Send(message);
        }
        catch (SystemCallException)
        {
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw Errno.Exception(what);
        }
    }
}
