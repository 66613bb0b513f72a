using System.Diagnostics;
using System.Text;
using Usernet.Link;
using Usernet.Netns;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Cli.Doctor;

/// <summary>
/// The doctor's live test: an in-process Usernet instance built as `usernet run` builds it, a
/// guest namespace on its TAP whose command is <see cref="GuestProbe"/>, and a TCP echo listener
/// on the host's loopback for the probe to reach as host.docker.internal. Nothing leaves the
/// machine: every step is answered by the instance itself or by the listener.
/// </summary>
internal static unsafe class SelfTest
{
    private const string Group = "self-test";

    /// <summary>After this the namespace is killed: every step has its own, shorter timeout.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>The steps in order, with what each shows works.</summary>
    private static readonly (string Name, string Enables)[] Steps =
    [
        ("namespace", "usernet run: network, mount and PID namespaces with tap0 on Usernet"),
        ("confine", "Usernet giving up what it no longer needs once set up: capabilities, no_new_privs, seccomp (security.*)"),
        ("dhcp", "guests that configure themselves by DHCP (VMs, --addressing dhcp)"),
        ("arp", "the gateway on the guest's link"),
        ("ping gateway", "ICMP to the gateway"),
        ("ping host", "ping of the host address (192.168.65.254 by default)"),
        ("dns", "Usernet's own names (host.docker.internal) from its DNS server"),
        ("tcp", "guest TCP connections re-opened as host sockets (here to the host's loopback)"),
    ];

    private const string Fix = "usernet doctor --log-level debug shows Usernet's log of the run; the checks above name what the host lacks";

    /// <summary>Runs the test; one check per step, in order, each timed.</summary>
    public static List<DoctorCheck> Run(InstanceOptions options)
    {
        var stack = options.Stack;
        if (!stack.Ipv4Enabled)
        {
            return NotRun("not run: defaultNetworkingMode is ipv6only, and the self-test runs over IPv4");
        }
        var results = new Dictionary<string, DoctorCheck>();
        using var listener = stack.HostLoopback ? new EchoListener() : null;
        int* pipe = stackalloc int[2];
        if (Libc.Pipe2(pipe, 0) < 0)
        {
            throw Errno.Exception("pipe2");
        }
        // The write end is inherited by the namespace's init and from it by the probe; the read end stays here.
        Libc.SetCloseOnExec(pipe[0], true);
        int reportFd = pipe[0];
        var mac = MacAddress.NewLocal();
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the usernet binary");
        var command = new List<string> { self };
        command.AddRange(GuestProbe.Arguments(pipe[1], mac, stack.Gateway, stack.Host, listener?.Port ?? 0));
        // The probe asks for its address by DHCP: the init only brings tap0 up, and leaves resolv.conf alone.
        var setup = RunCommand.GuestSetupFor(options, GuestAddressing.None) with { Mac = mac, PrivateResolvConf = false };

        var instance = new Instance(options);
        GuestNamespace guest;
        var watch = Stopwatch.StartNew();
        try
        {
            guest = GuestNamespace.Start(command, setup);
        }
        catch (Exception e) when (e is InvalidOperationException or SystemCallException or IOException or ProcessLauncher.ExecFailedException)
        {
            Libc.Close(pipe[1]);
            Libc.Close(reportFd);
            instance.DisposeAsync().AsTask().Wait();
            results["namespace"] = Step("namespace", CheckStatus.Fail, e.Message, watch.Elapsed);
            return Complete(results, "not run: the namespace could not be created");
        }
        Libc.Close(pipe[1]);
        results["namespace"] = Step("namespace", CheckStatus.Ok, $"init pid {guest.InitPid}, tap0 attached", watch.Elapsed);
        var reader = new Thread(() => ReadReport(reportFd, results)) { IsBackground = true, Name = "doctor report" };
        reader.Start();
        using (guest)
        {
            instance.Attach(new TapLink(guest.TapFd, setup.TapName));
            using var exitWatcher = new ChildExitWatcher(instance.Loop, guest.InitPid, _ => instance.Stop());
            // Through the init, as run relays signals: once confined, the channel is what this process may use.
            using var deadline = new Timer(_ => guest.Signal(Libc.SIGKILL), null, Deadline, Timeout.InfiniteTimeSpan);
            guest.Go();
            if (Confine(instance, results))
            {
                instance.Run();
            }
            else
            {
                guest.Signal(Libc.SIGKILL);
            }
        }
        instance.DisposeAsync().AsTask().Wait();
        reader.Join(TimeSpan.FromSeconds(2));
        lock (results)
        {
            return Complete(results, "not run: an earlier step failed");
        }
    }

    /// <summary>What `usernet run` does once the guest is set up, timed; false (and reported) when it fails.</summary>
    private static bool Confine(Instance instance, Dictionary<string, DoctorCheck> results)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            instance.Confine();
            lock (results)
            {
                results["confine"] = Step("confine", CheckStatus.Ok, "as usernet run: capabilities, no_new_privs and seccomp as the settings say", watch.Elapsed);
            }
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or SystemCallException)
        {
            lock (results)
            {
                results["confine"] = Step("confine", CheckStatus.Fail, e.Message, watch.Elapsed);
            }
            return false;
        }
    }

    /// <summary>Reads the probe's lines until its end of the pipe closes (the namespace is gone).</summary>
    private static void ReadReport(int fd, Dictionary<string, DoctorCheck> results)
    {
        using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            string[] fields = line.Split('\t', 4);
            if (fields.Length != 4 || !long.TryParse(fields[2], out long micros) || !Steps.Any(s => s.Name == fields[0]))
            {
                continue;
            }
            var status = fields[1] == "ok" ? CheckStatus.Ok : CheckStatus.Fail;
            lock (results)
            {
                results[fields[0]] = Step(fields[0], status, fields[3], TimeSpan.FromTicks(micros * 10));
            }
        }
    }

    /// <summary>Every step in order: those not reported were not run.</summary>
    private static List<DoctorCheck> Complete(Dictionary<string, DoctorCheck> results, string notRun) =>
        Steps.Select(s => results.TryGetValue(s.Name, out var check) ? check : Skipped(s.Name, notRun)).ToList();

    /// <summary>Every step, skipped for <paramref name="why"/>.</summary>
    public static List<DoctorCheck> NotRun(string why) => Steps.Select(s => Skipped(s.Name, why)).ToList();

    private static DoctorCheck Skipped(string name, string why) =>
        DoctorCheck.Skip(name, why, EnablesOf(name)) with { Group = Group };

    private static DoctorCheck Step(string name, CheckStatus status, string found, TimeSpan elapsed) =>
        new DoctorCheck(name, status, found, EnablesOf(name), status == CheckStatus.Fail ? Fix : null) { Group = Group, Elapsed = elapsed };

    private static string EnablesOf(string name) => Steps.First(s => s.Name == name).Enables;
}
