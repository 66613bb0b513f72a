using System.Diagnostics;
using System.Runtime.InteropServices;
using Usernet.Platform.Interop;
using Usernet.Services.Dns;

namespace Usernet.Cli.Doctor;

/// <summary>
/// Facts about this machine that decide what Usernet can do here: who runs it, what the kernel
/// allows an unprivileged user, and which optional programs and libraries are installed. Each
/// check reads files or tries a harmless operation (opening a device, a socket); none changes anything.
/// </summary>
internal static class HostChecks
{
    private const string TunPath = "/dev/net/tun";

    private static bool IsRoot => Libc.GetEUid() == 0;

    public static IEnumerable<DoctorCheck> All()
    {
        yield return Root();
        yield return UserNamespaces();
        yield return TunDevice();
        yield return PingGroupRange();
        yield return SubordinateIds();
        yield return Cgroups();
        yield return Dockerd();
        yield return Ipv6Route();
        yield return Gssapi();
    }

    public static DoctorCheck Root()
    {
        const string enables = "TAP devices and raw ICMP without a user namespace";
        return IsRoot
            ? DoctorCheck.Ok("root", "uid 0: Usernet creates the namespaces and the TAP device directly", enables)
            : DoctorCheck.Ok("root", $"uid {Libc.GetEUid()}: Usernet runs rootless, in a user namespace of its own", enables);
    }

    /// <summary>The knobs that turn unprivileged user namespaces off (user_namespaces(7), Debian's and Ubuntu's own).</summary>
    public static DoctorCheck UserNamespaces()
    {
        const string name = "user namespaces";
        const string enables = "usernet run without root (as pasta and slirp4netns)";
        var blocked = new List<(string Found, string Fix)>();
        if (ReadSysctl("user/max_user_namespaces") == "0")
        {
            blocked.Add(("user.max_user_namespaces is 0", "sysctl -w user.max_user_namespaces=15000"));
        }
        if (ReadSysctl("kernel/unprivileged_userns_clone") == "0")
        {
            blocked.Add(("kernel.unprivileged_userns_clone is 0", "sysctl -w kernel.unprivileged_userns_clone=1"));
        }
        if (ReadSysctl("kernel/apparmor_restrict_unprivileged_userns") == "1")
        {
            blocked.Add(("AppArmor restricts them (kernel.apparmor_restrict_unprivileged_userns is 1)", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
        }
        if (blocked.Count == 0)
        {
            return DoctorCheck.Ok(name, "allowed for unprivileged users", enables);
        }
        string found = string.Join("; ", blocked.Select(b => b.Found));
        string fix = string.Join(" && ", blocked.Select(b => b.Fix)) + " (as root; persist it in /etc/sysctl.d)";
        return IsRoot
            ? DoctorCheck.Warn(name, $"{found}: root does not need them, users cannot run Usernet", enables, fix)
            : DoctorCheck.Fail(name, found, enables, fix);
    }

    /// <summary>Whether this process can open the TAP device's clone file, which is all that `run` needs of it.</summary>
    public static DoctorCheck TunDevice()
    {
        const string name = "/dev/net/tun";
        const string enables = "usernet run (the guest's tap0)";
        if (!File.Exists(TunPath))
        {
            return DoctorCheck.Fail(name, "missing", enables,
                "modprobe tun; mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun (as root)");
        }
        string mode = "mode " + Convert.ToString((int)File.GetUnixFileMode(TunPath), 8).PadLeft(4, '0');
        int fd = Libc.Open(TunPath, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            Libc.Close(fd);
            return DoctorCheck.Ok(name, $"{mode}, opens", enables);
        }
        string reason = Errno.Describe(Errno.Last);
        return DoctorCheck.Fail(name, $"{mode}, cannot be opened by uid {Libc.GetEUid()}: {reason}", enables,
            "chmod 0666 /dev/net/tun (as root; distributions ship it so)");
    }

    /// <summary>
    /// Unprivileged ICMP sockets (icmp(7)): the kernel lets a process open one when its group is
    /// in net.ipv4.ping_group_range. Without them only root (a raw socket) relays guests' pings.
    /// </summary>
    public static DoctorCheck PingGroupRange()
    {
        const string name = "ping_group_range";
        const string enables = "guests' ping to other hosts without root";
        string range = (ReadSysctl("net/ipv4/ping_group_range") ?? "?").Replace('\t', ' ');
        int fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.IPPROTO_ICMP);
        if (fd >= 0)
        {
            Libc.Close(fd);
            return DoctorCheck.Ok(name, $"\"{range}\" includes this user's group: ICMP sockets", enables);
        }
        if (IsRoot)
        {
            return DoctorCheck.Ok(name, $"\"{range}\" excludes group 0; root pings through a raw socket instead", enables);
        }
        return DoctorCheck.Warn(name, $"\"{range}\" excludes the groups of uid {Libc.GetEUid()} ({string.Join(", ", Groups())})", enables,
            "sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" (as root; persist it in /etc/sysctl.d)");
    }

    /// <summary>newuidmap and subordinate ids: what rootless dockerd maps its containers' users with.</summary>
    public static DoctorCheck SubordinateIds()
    {
        const string name = "newuidmap, /etc/subuid";
        const string enables = "rootless dockerd under usernet docker (it maps a range of ids)";
        if (IsRoot)
        {
            return DoctorCheck.Skip(name, "not needed as root", enables);
        }
        string user = Environment.UserName;
        string uid = Libc.GetEUid().ToString();
        var missing = new List<string>();
        var fixes = new List<string>();
        if (FindProgram("newuidmap") is null || FindProgram("newgidmap") is null)
        {
            missing.Add("newuidmap or newgidmap not installed");
            fixes.Add("apt-get install uidmap");
        }
        bool subuid = HasRange("/etc/subuid", user, uid);
        bool subgid = HasRange("/etc/subgid", user, uid);
        if (!subuid || !subgid)
        {
            missing.Add($"no range for {user} in {(subuid ? "" : "/etc/subuid")}{(subuid || subgid ? "" : " and ")}{(subgid ? "" : "/etc/subgid")}");
            fixes.Add($"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}");
        }
        return missing.Count == 0
            ? DoctorCheck.Ok(name, $"newuidmap installed, ranges for {user} in /etc/subuid and /etc/subgid", enables)
            : DoctorCheck.Warn(name, string.Join("; ", missing), enables, string.Join(" && ", fixes) + " (as root)");
    }

    /// <summary>cgroup v2, and for a user the controllers systemd delegates to their session (as rootless Docker documents).</summary>
    public static DoctorCheck Cgroups()
    {
        const string name = "cgroup v2";
        const string enables = "dockerd under usernet docker (resource limits of its containers)";
        if (!File.Exists("/sys/fs/cgroup/cgroup.controllers"))
        {
            return DoctorCheck.Warn(name, "cgroup v1 or hybrid: /sys/fs/cgroup is not the unified hierarchy", enables,
                "add systemd.unified_cgroup_hierarchy=1 to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub), update-grub, reboot");
        }
        string controllers = ReadFirstLine("/sys/fs/cgroup/cgroup.controllers") ?? "";
        if (IsRoot)
        {
            return DoctorCheck.Ok(name, $"unified hierarchy; controllers: {controllers}", enables);
        }
        string uid = Libc.GetEUid().ToString();
        string delegated = $"/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers";
        string? mine = ReadFirstLine(delegated);
        string[] wanted = ["cpu", "memory", "pids"];
        var lacking = wanted.Where(c => mine is null || !mine.Split(' ').Contains(c)).ToList();
        if (lacking.Count == 0)
        {
            return DoctorCheck.Ok(name, $"unified hierarchy; delegated to uid {uid}: {mine}", enables);
        }
        return DoctorCheck.Warn(name, $"unified hierarchy, but {string.Join(", ", lacking)} not delegated to uid {uid}", enables,
            "mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf && systemctl daemon-reload (as root; then log in again)");
    }

    public static DoctorCheck Dockerd()
    {
        const string name = "dockerd";
        const string enables = "usernet docker";
        string? path = FindProgram("dockerd");
        if (path is null)
        {
            return DoctorCheck.Warn(name, "not installed", enables, "apt-get install docker.io (as root)");
        }
        string? version = RunForLine(path, "--version", TimeSpan.FromSeconds(3));
        return version is null
            ? DoctorCheck.Warn(name, $"{path} does not answer --version", enables, "reinstall it: apt-get install --reinstall docker.io (as root)")
            : DoctorCheck.Ok(name, $"{path}: {version}", enables);
    }

    public static DoctorCheck Ipv6Route()
    {
        const string name = "IPv6 default route";
        const string enables = "guests' IPv6 traffic beyond the host (defaultNetworkingMode auto picks dual-stack)";
        return HostFamilyProbe.HasIpv6DefaultRoute()
            ? DoctorCheck.Ok(name, "present", enables)
            : DoctorCheck.Warn(name, "none: guests reach IPv6 hosts only through the host's own routes, and auto mode gives them IPv4 only", enables,
                "give the host IPv6 connectivity (ip -6 route add default via ROUTER dev DEVICE); nothing is needed for IPv4");
    }

    /// <summary>.NET's NegotiateAuthentication loads the host's GSSAPI at run time; NTLM is a GSSAPI mechanism of its own.</summary>
    public static DoctorCheck Gssapi()
    {
        const string name = "GSSAPI";
        const string enables = "Negotiate (Kerberos) and NTLM towards upstream proxies";
        if (!NativeLibrary.TryLoad("libgssapi_krb5.so.2", out nint handle))
        {
            return DoctorCheck.Warn(name, "libgssapi_krb5.so.2 not found", enables, "apt-get install libgssapi-krb5-2 gss-ntlmssp (as root)");
        }
        NativeLibrary.Free(handle);
        bool ntlm = Directory.Exists("/etc/gss/mech.d") && Directory.EnumerateFiles("/etc/gss/mech.d")
            .Any(f => ReadAll(f).Contains("ntlmssp", StringComparison.OrdinalIgnoreCase));
        return ntlm
            ? DoctorCheck.Ok(name, "libgssapi_krb5.so.2 and gss-ntlmssp", enables)
            : DoctorCheck.Warn(name, "libgssapi_krb5.so.2, but no NTLM mechanism (gss-ntlmssp)", enables, "apt-get install gss-ntlmssp (as root; only NTLM needs it)");
    }

    /// <summary>The groups the kernel checks ping_group_range against: the effective gid and the supplementary groups.</summary>
    private static IEnumerable<string> Groups()
    {
        string[] status = File.ReadAllLines("/proc/self/status");
        string? gid = status.FirstOrDefault(l => l.StartsWith("Gid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2);
        string[] groups = status.FirstOrDefault(l => l.StartsWith("Groups:", StringComparison.Ordinal))?[7..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];
        return (gid is null ? groups : groups.Prepend(gid)).Distinct().Select(g => $"gid {g}");
    }

    private static bool HasRange(string path, string user, string uid)
    {
        try
        {
            return File.ReadLines(path).Any(l => l.StartsWith(user + ":", StringComparison.Ordinal) || l.StartsWith(uid + ":", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A program on PATH, or in the sbin directories a user's PATH often lacks.</summary>
    private static string? FindProgram(string program)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        return directories.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }

    /// <summary>The first line a program prints, or null when it fails or takes longer than <paramref name="timeout"/>.</summary>
    private static string? RunForLine(string path, string argument, TimeSpan timeout)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, argument)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }
            var output = process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill();
                return null;
            }
            string? first = output.Result.Split('\n').FirstOrDefault()?.Trim();
            return process.ExitCode == 0 && !string.IsNullOrEmpty(first) ? first : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string ReadAll(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string? ReadSysctl(string path) => ReadFirstLine("/proc/sys/" + path);

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
