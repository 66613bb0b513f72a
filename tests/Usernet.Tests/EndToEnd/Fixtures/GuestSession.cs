using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A `usernet run` kept alive (its command sleeps) so that a test can act inside the guest
/// namespace with nsenter, inject frames, and read the instance's counters. Disposing stops it
/// as a user would (SIGTERM, by PID), kills it if it lingers, and waits for it.
/// </summary>
internal sealed class GuestSession : IDisposable
{
    /// <summary>How long usernet may take to end after SIGTERM before it is killed.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly ManagedProcess _process;
    private bool _killed;

    private GuestSession(ManagedProcess process, string instance, int initPid)
    {
        _process = process;
        Instance = instance;
        InitPid = initPid;
    }

    public string Instance { get; }

    /// <summary>PID (in the host's PID namespace) of the init inside the guest namespaces.</summary>
    public int InitPid { get; }

    public int UsernetPid => _process.Id;

    public string NetnsPath => $"/proc/{InitPid}/ns/net";

    /// <summary>What usernet has written to stderr so far (the whole of it, not only up to readiness; bounded).</summary>
    public string Stderr => _process.Stderr;

    public static GuestSession Start(params string[] options) => StartWrapped([], options);

    /// <summary>Starts `usernet run` with <paramref name="options"/> and the guest running <paramref name="command"/> (which must last).</summary>
    public static GuestSession StartRunning(string[] options, params string[] command) => StartWrapped([], options, command);

    /// <summary>
    /// Starts `usernet run` through <paramref name="wrapper"/>, a command that ends by exec'ing
    /// its arguments (so that usernet keeps its PID), such as a private mount namespace's setup.
    /// </summary>
    public static GuestSession StartWrapped(IReadOnlyList<string> wrapper, params string[] options) => StartWrapped(wrapper, options, ["sleep", "600"]);

    private static GuestSession StartWrapped(IReadOnlyList<string> wrapper, string[] options, string[] command)
    {
        string instance = TestEnvironment.UniqueName("t");
        var arguments = new List<string> { TestEnvironment.UsernetBinary, "run", "--instance", instance };
        arguments.AddRange(options);
        arguments.Add("--");
        arguments.AddRange(command);
        arguments.InsertRange(0, wrapper);
        var process = ManagedProcess.Start(arguments[0], arguments.Skip(1), gracePeriod: StopGrace);
        int initPid = 0;
        // Asked again each time: a wrapper's short-lived children (mount) come first.
        process.WaitUntilReady(() => (initPid = FirstChild(process.Id)) != 0 && IsReady(initPid, instance), TimeSpan.FromSeconds(15));
        return new GuestSession(process, instance, initPid);
    }

    private static bool IsReady(int initPid, string instance)
    {
        // Ready when the guest has its address and the control socket answers.
        var address = ProcessRunner.Run("nsenter", ["--net=/proc/" + initPid + "/ns/net", "ip", "-4", "-o", "addr", "show", "dev", "tap0"], TimeSpan.FromSeconds(5));
        if (!address.Stdout.Contains("inet ", StringComparison.Ordinal))
        {
            return false;
        }
        var stats = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["stats", "--instance", instance], TimeSpan.FromSeconds(5));
        return stats.ExitCode == 0;
    }

    private static int FirstChild(int pid)
    {
        try
        {
            string children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim();
            return children.Length == 0 ? 0 : int.Parse(children.Split(' ')[0]);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Runs a command in the guest's network, mount and PID namespaces (its /proc is the guest's).</summary>
    public ProcessResult Exec(string[] command, TimeSpan? timeout = null)
    {
        var arguments = new List<string>
        {
            $"--net=/proc/{InitPid}/ns/net", $"--mount=/proc/{InitPid}/ns/mnt", $"--pid=/proc/{InitPid}/ns/pid", "--",
        };
        arguments.AddRange(command);
        return ProcessRunner.Run("nsenter", arguments, timeout ?? TimeSpan.FromSeconds(30));
    }

    public ProcessResult Shell(string commandLine, TimeSpan? timeout = null) => Exec(["/bin/sh", "-c", commandLine], timeout);

    /// <summary>The instance's counters (usernet stats).</summary>
    public JsonElement Stats() => UsernetStats.Read(Instance);

    public static long Drop(JsonElement stats, string reason) =>
        stats.GetProperty("stack").GetProperty("drops").TryGetProperty(reason, out var value) ? value.GetInt64() : 0;

    /// <summary>A raw packet socket on the guest's tap0, for injecting frames as a hostile guest would.</summary>
    public GuestPacketSocket OpenPacketSocket() => GuestPacketSocket.Open(NetnsPath, "tap0");

    /// <summary>The guest's MAC address (its tap0's).</summary>
    public MacAddress GuestMac()
    {
        string text = ProcessRunner.Check(Exec(["cat", "/sys/class/net/tap0/address"])).Trim();
        Assert.True(MacAddress.TryParse(text, out var mac), text);
        return mac;
    }

    /// <summary>Stops usernet as a user would (SIGTERM), and returns its exit code.</summary>
    public int Terminate() => _process.Stop(StopGrace);

    /// <summary>Kills usernet (SIGKILL), as a crash would: it ends without cleaning up.</summary>
    public void Kill()
    {
        _killed = true;
        Usernet.Platform.Interop.Libc.Kill(UsernetPid, Usernet.Platform.Interop.Libc.SIGKILL);
    }

    public void Dispose()
    {
        _process.Dispose();
        if (_killed)
        {
            // What usernet removes on its way out, and SIGKILL gave it no chance to.
            string directory = Path.Combine(Usernet.Control.InstanceDirectory.Path, Instance);
            File.Delete(directory + ".sock");
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
