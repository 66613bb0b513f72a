using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// An sshd of the test's own on 127.0.0.1 that accepts one public key and nothing else (no
/// password, no keyboard-interactive), with a host key and configuration in a temporary
/// directory. It runs in a private mount namespace with a /run of its own, where it finds its
/// privilege separation directory, so nothing of it appears in the host's /run.
/// </summary>
internal sealed class Sshd : IDisposable
{
    private readonly ManagedProcess _process;
    private readonly string _directory;

    private Sshd(ManagedProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The options a client needs to log in without a configuration or known hosts of its own.</summary>
    public static string ClientOptions =>
        "-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR";

    /// <summary>Starts one that lets root in with the key of <paramref name="authorizedKey"/> (a .pub file).</summary>
    public static Sshd Start(string authorizedKey)
    {
        string directory = Directory.CreateTempSubdirectory("usernet-sshd-").FullName;
        ManagedProcess? process = null;
        try
        {
            string hostKey = Path.Combine(directory, "host_ed25519");
            ProcessRunner.Check(ProcessRunner.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]));
            File.Copy(authorizedKey, Path.Combine(directory, "authorized_keys"));
            int port = Ports.Free();
            string config = Path.Combine(directory, "sshd_config");
            File.WriteAllText(config, $"""
                Port {port}
                ListenAddress 127.0.0.1
                HostKey {hostKey}
                AuthorizedKeysFile {directory}/authorized_keys
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                UsePAM no
                StrictModes no

                """);
            process = ManagedProcess.Start("unshare", ["--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f \"$0\"", config]);
            process.WaitUntilReady(() => Ports.Accepts(port));
            return new Sshd(process, directory, port);
        }
        catch
        {
            process?.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public override string ToString() => _process.ToString();

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
