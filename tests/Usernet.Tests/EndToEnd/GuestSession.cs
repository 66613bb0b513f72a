using System.Diagnostics;
using System.Text.Json;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A `usernet run` kept alive (its command sleeps) so that a test can act inside the guest
/// namespace with nsenter, inject frames, and read the instance's counters. Disposing stops it
/// by PID and waits for it.
/// </summary>
internal sealed class GuestSession : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr;

    private GuestSession(Process process, System.Text.StringBuilder stderr, string instance, int initPid)
    {
        _process = process;
        _stderr = stderr;
        Instance = instance;
        InitPid = initPid;
    }

    public string Instance { get; }

    /// <summary>PID (in the host's PID namespace) of the init inside the guest namespaces.</summary>
    public int InitPid { get; }

    public int UsernetPid => _process.Id;

    public string NetnsPath => $"/proc/{InitPid}/ns/net";

    /// <summary>What usernet has written to stderr so far (the whole of it, not only up to readiness).</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

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
        var process = ProcessRunner.Start(arguments[0], arguments.Skip(1));
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        int initPid = 0;
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"usernet run exited with {process.ExitCode}: {stderr}");
                }
                // Asked again each time: a wrapper's short-lived children (mount) come first.
                initPid = FirstChild(process.Id);
                if (initPid != 0 && IsReady(initPid, instance))
                {
                    return new GuestSession(process, stderr, instance, initPid);
                }
                Thread.Sleep(20);
            }
            throw new TimeoutException($"usernet run did not become ready: {stderr}");
        }
        catch
        {
            ProcessRunner.Stop(process);
            process.Dispose();
            throw;
        }
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

    /// <summary>Stops usernet as a user would (SIGTERM), and returns its exit code.</summary>
    public int Terminate()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGTERM);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Libc.Kill(_process.Id, Libc.SIGKILL);
                _process.WaitForExit();
            }
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        ProcessRunner.Stop(_process);
        _process.Dispose();
    }
}
