namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// An ssh-agent of the test's own (in the foreground, by PID) holding one freshly generated
/// ed25519 key, in a temporary directory: the host agent the SSH agent relay forwards to.
/// </summary>
internal sealed class SshKeyAgent : IDisposable
{
    private readonly ManagedProcess _agent;

    private SshKeyAgent(string directory, ManagedProcess agent, string fingerprint)
    {
        Directory = directory;
        _agent = agent;
        Fingerprint = fingerprint;
    }

    public string Directory { get; }

    /// <summary>The agent's socket: what SSH_AUTH_SOCK names.</summary>
    public string Socket => Path.Combine(Directory, "agent.sock");

    public string PublicKeyPath => Path.Combine(Directory, "key.pub");

    /// <summary>The key's SHA256 fingerprint, as ssh-add -l prints it.</summary>
    public string Fingerprint { get; }

    public static SshKeyAgent Start()
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-ssh-agent-").FullName;
        ManagedProcess? agent = null;
        try
        {
            string key = Path.Combine(directory, "key");
            ProcessRunner.Check(ProcessRunner.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "usernet-test", "-f", key]));
            string fingerprint = ProcessRunner.Check(ProcessRunner.Run("ssh-keygen", "-lf", key + ".pub")).Split(' ')[1];
            string socket = Path.Combine(directory, "agent.sock");
            agent = ManagedProcess.Start("ssh-agent", ["-D", "-a", socket]);
            agent.WaitUntilReady(() => File.Exists(socket));
            ProcessRunner.Check(ProcessRunner.Run("ssh-add", [key], environment: new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = socket }));
            // The agent holds it now: the private key file goes, so that only the agent can sign.
            File.Delete(key);
            return new SshKeyAgent(directory, agent, fingerprint);
        }
        catch
        {
            agent?.Dispose();
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        _agent.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
