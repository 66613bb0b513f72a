using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A `usernet serve` under a unique instance name, ready once its control socket answers.
/// Disposing stops it by PID and waits for it.
/// </summary>
internal sealed class ServeInstance : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ServeInstance(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string Name { get; }

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

    public static ServeInstance Start(params string[] options)
    {
        string name = TestEnvironment.UniqueName("vm");
        var process = ProcessRunner.Start(TestEnvironment.UsernetBinary, ["serve", "--instance", name, .. options]);
        var serve = new ServeInstance(process, name);
        // The control socket opens after every listener is bound.
        bool ready = RunCommandTests.WaitUntil(
            () => process.HasExited || ProcessRunner.Run(TestEnvironment.UsernetBinary, ["stats", "--instance", name], TimeSpan.FromSeconds(5)).ExitCode == 0);
        if (!ready || process.HasExited)
        {
            serve.Dispose();
            throw new InvalidOperationException($"usernet serve {string.Join(' ', options)} did not start\n{serve.Stderr}");
        }
        return serve;
    }

    /// <summary>The instance's counters (usernet stats).</summary>
    public JsonElement Stats() => UsernetStats.Read(Name);

    public void Dispose()
    {
        ProcessRunner.Stop(_process);
        _process.Dispose();
    }
}
