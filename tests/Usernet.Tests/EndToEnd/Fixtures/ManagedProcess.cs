using System.ComponentModel;
using System.Diagnostics;
using Usernet.Platform.Interop;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A program a test starts and that must not outlive it. Its stdout and stderr are drained
/// into bounded buffers as it runs (a full pipe would stall it), readiness is awaited with a
/// deadline, and disposing it kills it with every descendant still attached (SIGKILL, by PID)
/// and reaps it, whether the test passed or not. Started -> (ready) -> stopped or killed -> reaped.
/// </summary>
internal sealed class ManagedProcess : IDisposable
{
    /// <summary>What is kept of each stream of a program: the start and the end of it.</summary>
    public const int DefaultOutputLimit = 1 << 20;

    /// <summary>How long a killed program may take to be gone.</summary>
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Lines of stdout kept for <see cref="ReadLine"/>; a program nobody reads from drops the oldest.</summary>
    private const int UnreadLineLimit = 1000;

    private readonly Process _process;
    private readonly BoundedOutput _stdout;
    private readonly BoundedOutput _stderr;
    private readonly Queue<string> _unread = new();

    /// <summary>Guards <see cref="_unread"/> and the ends of the streams, and is pulsed when either changes.</summary>
    private readonly object _streams = new();
    private readonly TimeSpan? _gracePeriod;
    private bool _stdoutEnded;
    private int _streamsOpen = 2;
    private bool _disposed;

    private ManagedProcess(Process process, string commandLine, int outputLimit, TimeSpan? gracePeriod)
    {
        _process = process;
        CommandLine = commandLine;
        _stdout = new BoundedOutput(outputLimit);
        _stderr = new BoundedOutput(outputLimit);
        _gracePeriod = gracePeriod;
        _process.OutputDataReceived += (_, e) => OnStdout(e.Data);
        _process.ErrorDataReceived += (_, e) => OnStderr(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What it wrote to stdout so far (bounded: see <see cref="BoundedOutput"/>).</summary>
    public string Stdout => _stdout.ToString();

    /// <summary>What it wrote to stderr so far (bounded: see <see cref="BoundedOutput"/>).</summary>
    public string Stderr => _stderr.ToString();

    /// <summary>Its stdin, if it was started with <c>redirectInput</c>.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>
    /// Starts <paramref name="file"/>. With <paramref name="gracePeriod"/>, disposing asks it to
    /// end first (SIGTERM) and kills it only if it has not within that time: for programs whose
    /// own cleanup on exit a test relies on.
    /// </summary>
    public static ManagedProcess Start(string file, IEnumerable<string> arguments, bool redirectInput = false,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? gracePeriod = null, int outputLimit = DefaultOutputLimit)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        string commandLine = string.Join(' ', info.ArgumentList.Prepend(file).Select(a => a.Contains(' ') ? $"'{a}'" : a));
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {file} ({e.Message}): tests/run installs the programs the tests drive", e);
        }
        return new ManagedProcess(process, commandLine, outputLimit, gracePeriod);
    }

    /// <summary>
    /// Waits until <paramref name="ready"/> holds (a check that times out counts as not yet). If
    /// the program ends first, or <paramref name="within"/> (10 s unless given) passes, or the
    /// check fails otherwise, it is killed and the exception says what it printed and, from
    /// <paramref name="log"/>, what its log file says.
    /// </summary>
    public void WaitUntilReady(Func<bool> ready, TimeSpan? within = null, Func<string>? log = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        try
        {
            if (Wait.Until(() => _process.HasExited || Probe(ready), limit.TotalSeconds) && !_process.HasExited)
            {
                return;
            }
        }
        catch
        {
            // The check itself failed: the program must not outlive it.
            Dispose();
            throw;
        }
        string why = _process.HasExited && _process.WaitForExit(ReapTimeout)
            ? $"exited with {_process.ExitCode}"
            : $"was not ready within {limit.TotalSeconds} s";
        string message = $"{CommandLine} {why}\n{log?.Invoke()}\n{this}";
        Dispose();
        throw new InvalidOperationException(message);
    }

    /// <summary>A probe that did not answer in time (a client run with a deadline, on a busy machine) says: not ready yet.</summary>
    private static bool Probe(Func<bool> ready)
    {
        try
        {
            return ready();
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The next line of stdout not read yet, or null if none comes within <paramref name="timeout"/> or stdout ended.</summary>
    public string? ReadLine(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_streams)
        {
            while (_unread.Count == 0)
            {
                var left = deadline - DateTime.UtcNow;
                if (_stdoutEnded || left <= TimeSpan.Zero)
                {
                    return null;
                }
                Monitor.Wait(_streams, left);
            }
            return _unread.Dequeue();
        }
    }

    /// <summary>
    /// Waits for the program to end and, within the same time, for its output to be complete
    /// (a descendant may still hold its stdout). False if it is still running.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        var left = timeout - watch.Elapsed;
        var deadline = DateTime.UtcNow + (left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        lock (_streams)
        {
            while (_streamsOpen > 0 && deadline - DateTime.UtcNow is { Ticks: > 0 } remaining)
            {
                Monitor.Wait(_streams, remaining);
            }
        }
        return true;
    }

    /// <summary>Stops it as a user would: SIGTERM to its PID, then, after <paramref name="grace"/>, the kill. Returns its exit code.</summary>
    public int Stop(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGTERM);
            if (!WaitForExit(grace))
            {
                Kill();
            }
        }
        _process.WaitForExit(ReapTimeout);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to it and to every descendant still attached to it, each by its PID.</summary>
    public void Kill()
    {
        if (_process.HasExited)
        {
            // Nothing to stop (and listing every process of the machine to find a tree is not cheap).
            return;
        }
        try
        {
            // Stops it first, so that it cannot fork while its children are listed.
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or AggregateException)
        {
            // It (or a child) ended meanwhile.
        }
    }

    /// <summary>What a failed assertion shows: the command line and everything it printed.</summary>
    public override string ToString() => $"{CommandLine}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_gracePeriod is { } grace)
        {
            Stop(grace);
        }
        Kill();
        _process.WaitForExit(ReapTimeout);
        _process.Dispose();
    }

    private void OnStdout(string? line)
    {
        lock (_streams)
        {
            if (line is null)
            {
                _stdoutEnded = true;
                _streamsOpen--;
            }
            else
            {
                _stdout.AppendLine(line);
                _unread.Enqueue(line);
                if (_unread.Count > UnreadLineLimit)
                {
                    _unread.Dequeue();
                }
            }
            Monitor.PulseAll(_streams);
        }
    }

    private void OnStderr(string? line)
    {
        if (line is not null)
        {
            _stderr.AppendLine(line);
            return;
        }
        lock (_streams)
        {
            _streamsOpen--;
            Monitor.PulseAll(_streams);
        }
    }
}
