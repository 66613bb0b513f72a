namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// What the host resolver of a usernet under test sees: a test /etc/hosts and /etc/resolv.conf,
/// bind-mounted over the real ones in a private mount namespace that usernet runs in, so that
/// its getaddrinfo asks only test servers, never the machine's resolver.
/// </summary>
internal sealed class IsolatedResolver : IDisposable
{
    public IsolatedResolver(string hosts, params string[] nameservers)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("usernet-dns-").FullName;
        HostsPath = Path.Combine(Directory, "hosts");
        ResolvConfPath = Path.Combine(Directory, "resolv.conf");
        File.WriteAllText(HostsPath, "127.0.0.1 localhost\n" + hosts);
        SetNameservers(nameservers);
    }

    public string Directory { get; }

    public string HostsPath { get; }

    public string ResolvConfPath { get; }

    /// <summary>Rewrites resolv.conf in place, as a VPN client does.</summary>
    public void SetNameservers(params string[] nameservers) =>
        File.WriteAllText(ResolvConfPath, string.Concat(nameservers.Select(n => $"nameserver {n}\n")) + "options timeout:1 attempts:1\n");

    /// <summary>Runs what follows it in a private mount namespace with the test files in place.</summary>
    public string[] Wrapper =>
    [
        "unshare", "--mount", "--propagation", "private", "sh", "-c",
        $"mount --bind {HostsPath} /etc/hosts && mount --bind {ResolvConfPath} /etc/resolv.conf && exec \"$0\" \"$@\"",
    ];

    /// <summary>Settings that point the DNS server at the test resolv.conf too.</summary>
    public string[] Settings(params string[] more) => ["--set", $"dns.resolvConf={ResolvConfPath}", .. more];

    /// <summary>`usernet run` of a shell command line, isolated.</summary>
    public ProcessResult Run(string commandLine, params string[] options) =>
        ProcessRunner.Run(Wrapper[0], [.. Wrapper[1..], TestEnvironment.UsernetBinary, "run", .. Settings(options), "--", "sh", "-c", commandLine],
            TimeSpan.FromSeconds(60));

    public GuestSession Start(params string[] options) => GuestSession.StartWrapped(Wrapper, Settings(options));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
