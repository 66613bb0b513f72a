using System.Net;
using System.Net.Sockets;
using Usernet.Control;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// What other local users can reach of Usernet's: its unix sockets (closed to them from the
/// moment of the bind), the control socket directory in /tmp, the files named by
/// <c>--instance</c> and <c>--pcap</c>, and the host ports a guest publishes by listening.
/// </summary>
public sealed class LocalAccessTests : IDisposable
{
    /// <summary>A user of this test class's own for the /tmp fallback (RootlessTests has 65534).</summary>
    private const int OtherUid = 65533;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-local-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);

    private static bool OpenToOthers(string path) =>
        !FileStatus.TryOfPath(path, out var status, out int errno) ? throw new IOException($"{path}: {Errno.Describe(errno)}") : status.OthersMayUse;

    /// <summary>
    /// strace answers every chmod with success without making it, so each socket keeps the mode
    /// its bind gave it: what another user could connect to before a chmod came.
    /// </summary>
    [RootFact]
    public void UnixSocketsAreClosedToOthersFromTheirBind()
    {
        string stream = PathOf("qemu.sock");
        string datagram = PathOf("dgram.sock");
        string name = TestEnvironment.UniqueName("sock");
        using var serve = ManagedProcess.Start("sh", ["-c",
            "umask 022 && exec strace -f -qq -o /dev/null -e trace=chmod,fchmodat -e inject=chmod,fchmodat:retval=0 " +
            $"{TestEnvironment.UsernetBinary} serve --instance {name} --listen-qemu unix:{stream} --listen-dgram unixgram:{datagram}"]);
        serve.WaitUntilReady(() => serve.Stderr.Contains("control socket "), TimeSpan.FromSeconds(30));
        string control = serve.Stderr.Split('\n').First(l => l.Contains("control socket ")).Split("control socket ")[1].Trim();
        try
        {
            Assert.False(OpenToOthers(stream), $"{stream} was bound open to others");
            Assert.False(OpenToOthers(datagram), $"{datagram} was bound open to others");
            Assert.False(OpenToOthers(control), $"{control} was bound open to others");
        }
        finally
        {
            // Stopping strace kills the Usernet it traces before it can remove its control socket.
            serve.Dispose();
            File.Delete(control);
        }
    }

    /// <summary>
    /// /tmp/usernet-UID is where an unprivileged user's control sockets go without
    /// XDG_RUNTIME_DIR, and anyone can make it first: a symbolic link, a directory of their
    /// own, or one of the user's left open are each refused with the reason, by the server and
    /// by the client; once it is gone, Usernet makes it, 0700.
    /// </summary>
    [RootFact]
    public void AControlDirectoryInTmpIsUsedOnlyWhenPrivate()
    {
        string directory = $"/tmp/usernet-{OtherUid}";
        var sockets = Directory.CreateTempSubdirectory("usernet-local-sockets-");
        string elsewhere = PathOf("elsewhere");
        Directory.CreateDirectory(elsewhere);
        try
        {
            Chown(sockets.FullName, OtherUid);
            Chown(elsewhere, OtherUid);
            File.SetUnixFileMode(elsewhere, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(_directory.FullName, (UnixFileMode)0x1ED);
            string listen = $"unix:{sockets.FullName}/q.sock";

            Remove(directory);
            Directory.CreateSymbolicLink(directory, elsewhere);
            AssertRefused(AsOtherUser($"serve --listen-qemu {listen}"), $"{directory} cannot hold control sockets: it is a symbolic link");
            Assert.Empty(Directory.GetFileSystemEntries(elsewhere));

            Remove(directory);
            Directory.CreateDirectory(directory);
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            AssertRefused(AsOtherUser($"serve --listen-qemu {listen}"), $"it belongs to uid 0, not to uid {OtherUid}");
            AssertRefused(AsOtherUser("stats"), $"it belongs to uid 0, not to uid {OtherUid}");

            Chown(directory, OtherUid);
            File.SetUnixFileMode(directory, (UnixFileMode)0x1ED);
            AssertRefused(AsOtherUser($"serve --listen-qemu {listen}"), "its mode is 0755, not 0700");

            Remove(directory);
            string name = TestEnvironment.UniqueName("tmp");
            using var serve = ManagedProcess.Start("sh", ["-c", AsOtherUserCommand($"serve --instance {name} --listen-qemu {listen}")]);
            serve.WaitUntilReady(() => File.Exists($"{directory}/{name}.sock"));
            Assert.True(FileStatus.TryOfPath(directory, out var status, out _));
            Assert.True(status.IsDirectory && status.Owner == OtherUid && status.Permissions == 0x1C0, $"{status}");
        }
        finally
        {
            Remove(directory);
            sockets.Delete(recursive: true);
        }
    }

    [RootFact]
    public void AnInstanceNameThatIsAPathIsRefused()
    {
        string name = "../" + TestEnvironment.UniqueName("escape");
        string escaped = Path.GetFullPath(Path.Combine(InstanceDirectory.Path, name + ".sock"));
        try
        {
            var serve = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["serve", "--instance", name, "--listen-qemu", $"unix:{PathOf("q.sock")}"], TimeSpan.FromSeconds(20));
            Assert.Equal(2, serve.ExitCode);
            Assert.StartsWith($"usernet: --instance: '{name}' may hold only letters, digits", serve.Stderr);
            Assert.False(File.Exists(escaped));
            var stats = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["stats", "--instance", name]);
            Assert.Equal(2, stats.ExitCode);
            Assert.Contains("--instance:", stats.Stderr);
        }
        finally
        {
            File.Delete(escaped);
        }
    }

    [RootFact]
    public void ACaptureIsTheUsersAloneAndNeverWrittenThroughALink()
    {
        string capture = PathOf("capture.pcap");
        var run = ProcessRunner.Shell($"umask 022 && {TestEnvironment.UsernetBinary} run --pcap {capture} -- ping -c 1 -W 2 192.168.65.1", TimeSpan.FromSeconds(30));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(capture));
        Assert.True(new FileInfo(capture).Length > 24);

        string precious = PathOf("precious");
        File.WriteAllText(precious, "keep me");
        string link = PathOf("link.pcap");
        File.CreateSymbolicLink(link, precious);
        var refused = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--pcap", link, "--", "true"], TimeSpan.FromSeconds(30));
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains($"cannot write the capture {link}: it is a symbolic link", refused.Stderr);
        Assert.Equal("keep me", File.ReadAllText(precious));
    }

    [RootFact]
    public void AtItsSizeLimitTheCaptureStopsAndTheLinkGoesOn()
    {
        string capture = PathOf("limited.pcap");
        using var guest = GuestSession.Start("--pcap", capture, "--pcap-limit", "64K");
        var ping = guest.Shell("ping -c 100 -i 0.01 -s 1000 -W 2 192.168.65.1", TimeSpan.FromSeconds(30));
        Assert.True(ping.Stdout.Contains("100 received"), ping.ToString());
        var stats = guest.Stats().GetProperty("capture");
        Assert.Contains("size limit of 65536 bytes", stats.GetProperty("stopped").GetString());
        Assert.True(stats.GetProperty("notCaptured").GetInt64() > 0);
        Assert.True(new FileInfo(capture).Length <= 65536);
        // What was written is a capture tcpdump reads to its end: whole records only.
        var read = ProcessRunner.Run("tcpdump", ["-n", "-r", capture], TimeSpan.FromSeconds(20));
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.DoesNotContain("truncated", read.Stderr);
    }

    /// <summary>A capture on a 64 KiB file system, private to usernet's mount namespace, runs out of room.</summary>
    [RootFact]
    public void AFailingWriteStopsTheCaptureNotTheLink()
    {
        string small = PathOf("small");
        Directory.CreateDirectory(small);
        using var guest = GuestSession.StartWrapped(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", $"mount -t tmpfs -o size=64k usernet-test {small} && exec \"$@\"", "sh"],
            "--pcap", $"{small}/capture.pcap");
        var ping = guest.Shell("ping -c 100 -i 0.01 -s 1000 -W 2 192.168.65.1", TimeSpan.FromSeconds(30));
        Assert.True(ping.Stdout.Contains("100 received"), ping.ToString());
        var stats = guest.Stats();
        Assert.Contains("writing it failed", stats.GetProperty("capture").GetProperty("stopped").GetString());
        Assert.True(stats.GetProperty("capture").GetProperty("notCaptured").GetInt64() > 0);
        Assert.Contains("stopped: writing it failed", guest.Stderr);
        Assert.Single(stats.GetProperty("links").EnumerateArray());
    }

    /// <summary>The guest, not the user, chooses what -p auto publishes: so it goes on the host's loopback.</summary>
    [RootFact]
    public void PortsTheGuestListensOnArePublishedOnLoopbackUnlessSetOtherwise()
    {
        int port = Ports.Free();
        using (var guest = GuestSession.StartRunning(["-p", "auto"], "python3", "-m", "http.server", $"{port}", "--bind", "0.0.0.0", "--directory", _directory.FullName))
        {
            Assert.True(Wait.Until(() => HostListeners(port).Count > 0), "nothing was published");
            Assert.All(HostListeners(port), address => Assert.True(IPAddress.IsLoopback(address), $"published on {address}"));
            Assert.Equal(0, ProcessRunner.Run("curl", "-sS", "-o", "/dev/null", "--max-time", "5", $"http://127.0.0.1:{port}/").ExitCode);
        }
        Assert.True(Wait.Until(() => HostListeners(port).Count == 0));
        using (var everywhere = GuestSession.StartRunning(["-p", "auto", "--set", "portBindingBehavior=default-port-binding"],
            "python3", "-m", "http.server", $"{port}", "--bind", "0.0.0.0", "--directory", _directory.FullName))
        {
            Assert.True(Wait.Until(() => HostListeners(port).Any(a => a.Equals(IPAddress.Any))), string.Join(", ", HostListeners(port)));
        }
    }

    [RootFact]
    public void AtMost256PortsArePublishedAutomatically()
    {
        // Below the ephemeral range, where the other tests' ports come from.
        const int First = 21000;
        const int Count = 300;
        string script = $"import socket, time\ns = []\nfor p in range({First}, {First + Count}):\n    l = socket.socket(); l.bind(('0.0.0.0', p)); l.listen(); s.append(l)\ntime.sleep(600)\n";
        File.WriteAllText(PathOf("listen.py"), script);
        using var guest = GuestSession.StartRunning(["-p", "auto"], "python3", PathOf("listen.py"));
        Assert.True(Wait.Until(() => guest.Stats().GetProperty("ports").GetProperty("auto").GetProperty("published").GetInt32() == 256, 30),
            guest.Stats().GetProperty("ports").ToString());
        var auto = guest.Stats().GetProperty("ports").GetProperty("auto");
        Assert.InRange(auto.GetProperty("overLimit").GetInt32(), 1, Count - 256);
        Assert.Contains("more ports than -p auto publishes (256)", guest.Stderr);
        Assert.Equal(1, guest.Stderr.Split("more ports than -p auto publishes").Length - 1);
    }

    /// <summary>The host's listening TCP sockets on <paramref name="port"/>, by address.</summary>
    private static List<IPAddress> HostListeners(int port) =>
        ProcNetTable.Read("/proc/net", ProtocolType.Tcp)
            .Where(s => s.IsListening && s.Local.Port == port)
            .Select(s => s.Local.Address.ToIPAddress())
            .ToList();

    private static string AsOtherUserCommand(string arguments) =>
        $"cd /tmp && exec setpriv --reuid={OtherUid} --regid={OtherUid} --clear-groups env HOME=/tmp XDG_RUNTIME_DIR= {TestEnvironment.UsernetBinary} {arguments}";

    private static ProcessResult AsOtherUser(string arguments) => ProcessRunner.Shell(AsOtherUserCommand(arguments), TimeSpan.FromSeconds(20));

    private static void AssertRefused(ProcessResult result, string reason)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains(reason, result.Stderr);
    }

    private static void Remove(string path)
    {
        if (FileStatus.TryOfPath(path, out var status, out _))
        {
            if (status.IsDirectory)
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
    }

    private static void Chown(string path, int uid) => ProcessRunner.Check(ProcessRunner.Run("chown", $"{uid}:{uid}", path));
}
