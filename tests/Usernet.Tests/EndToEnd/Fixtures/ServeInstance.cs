using System.Text.Json;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A `usernet serve` under a unique instance name, ready once its control socket answers.
/// Disposing stops it as a user would (SIGTERM, by PID), kills it if it lingers, and waits for it.
/// </summary>
internal sealed class ServeInstance : IDisposable
{
    private readonly ManagedProcess _process;

    private ServeInstance(ManagedProcess process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public string Stderr => _process.Stderr;

    public static ServeInstance Start(params string[] options) => Start(null, options);

    /// <summary>Starts one whose environment has <paramref name="environment"/> too (SSH_AUTH_SOCK, say).</summary>
    public static ServeInstance Start(IReadOnlyDictionary<string, string>? environment, params string[] options)
    {
        string name = TestEnvironment.UniqueName("vm");
        var process = ManagedProcess.Start(TestEnvironment.UsernetBinary, ["serve", "--instance", name, .. options], environment: environment,
            gracePeriod: TimeSpan.FromSeconds(10));
        // The control socket opens after every listener is bound.
        process.WaitUntilReady(() => ProcessRunner.Run(TestEnvironment.UsernetBinary, ["stats", "--instance", name], TimeSpan.FromSeconds(5)).ExitCode == 0);
        return new ServeInstance(process, name);
    }

    /// <summary>The instance's counters (usernet stats).</summary>
    public JsonElement Stats() => UsernetStats.Read(Name);

    public void Dispose() => _process.Dispose();
}
