using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real dante (danted) SOCKS5 server on a loopback port that requires a user and password
/// (RFC 1929). Dante checks them against the system's users, so a temporary user with a
/// unique name is made for it and removed again. It runs in a private mount namespace whose
/// /etc/resolv.conf and /etc/hosts are test files (<c>hosts</c>, then the test nameserver), so
/// the names it resolves (socks5h) reach only those. It connects out from <c>external</c>, the host's address towards
/// the test host. Stopped by PID (SIGTERM, on which it ends its children), killed with them if it lingers.
/// </summary>
internal sealed class Dante : IDisposable
{
    private readonly ManagedProcess _process;
    private readonly IsolatedResolver _resolver;

    private Dante(ManagedProcess process, string directory, int port, string user, IsolatedResolver resolver)
    {
        _process = process;
        Directory = directory;
        Port = port;
        User = user;
        _resolver = resolver;
    }

    public string Directory { get; }

    public int Port { get; }

    public string User { get; }

    public string Log => File.Exists(Path.Combine(Directory, "danted.log")) ? File.ReadAllText(Path.Combine(Directory, "danted.log")) : "";

    public static Dante Start(string nameserver, string password, string external, string hosts = "")
    {
        string user = TestEnvironment.UniqueName("unt");
        ProcessRunner.Check(ProcessRunner.Run("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", user]));
        var resolver = new IsolatedResolver(hosts, nameserver);
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-dante-").FullName;
        try
        {
            ProcessRunner.Check(ProcessRunner.Run("chpasswd", [], stdin: $"{user}:{password}\n"));
            int port = Ports.Free();
            string config = Path.Combine(directory, "danted.conf");
            File.WriteAllText(config, $$"""
                logoutput: {{directory}}/danted.log
                internal: 127.0.0.1 port = {{port}}
                external: {{external}}
                socksmethod: username
                user.privileged: root
                user.unprivileged: nobody
                client pass {
                    from: 127.0.0.0/8 to: 0.0.0.0/0
                }
                socks pass {
                    from: 127.0.0.0/8 to: 0.0.0.0/0
                    command: connect
                    log: connect error
                }
                """);
            // The wrapper execs danted, so this PID is danted's.
            string[] wrapped = [.. resolver.Wrapper, "danted", "-f", config, "-N", "1"];
            var process = ManagedProcess.Start(wrapped[0], wrapped[1..], gracePeriod: TimeSpan.FromSeconds(5));
            string log = Path.Combine(directory, "danted.log");
            process.WaitUntilReady(() => ProcessRunner.Run("bash", ["-c", $"exec 3<>/dev/tcp/127.0.0.1/{port}"]).ExitCode == 0,
                log: () => File.Exists(log) ? File.ReadAllText(log) : "");
            return new Dante(process, directory, port, user, resolver);
        }
        catch
        {
            ProcessRunner.Run("userdel", [user]);
            resolver.Dispose();
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        ProcessRunner.Run("userdel", [User]);
        _resolver.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
