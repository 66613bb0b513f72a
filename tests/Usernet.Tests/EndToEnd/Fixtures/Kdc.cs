using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real MIT Kerberos KDC for the realm <see cref="Realm"/> on a loopback port of its own, with
/// its database, stash, log, krb5.conf and kdc.conf in a temporary directory: every Kerberos
/// program a test runs gets <see cref="Environment"/> (KRB5_CONFIG, KRB5_KDC_PROFILE,
/// KRB5CCNAME), never the machine's /etc/krb5.conf or default credential cache. It holds a user
/// (<see cref="User"/>) and the service principal of a proxy, whose keys it exports to a keytab
/// for squid. Killed by PID, and its directory removed, when disposed.
/// </summary>
internal sealed class Kdc : IDisposable
{
    public const string Realm = "USERNET.TEST";

    public const string User = "alice";

    private readonly ManagedProcess _process;

    private Kdc(ManagedProcess process, string directory, string password)
    {
        _process = process;
        Directory = directory;
        Password = password;
    }

    public string Directory { get; }

    /// <summary>The user's password (random for each KDC), given to kinit on stdin only.</summary>
    public string Password { get; }

    public string Principal => $"{User}@{Realm}";

    public string ConfigPath => Path.Combine(Directory, "krb5.conf");

    /// <summary>The user's credential cache: a file, so that kdestroy and kinit replace it in place.</summary>
    public string CachePath => Path.Combine(Directory, "ccache");

    public string LogPath => Path.Combine(Directory, "kdc.log");

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    /// <summary>What every Kerberos program of the test runs with.</summary>
    public IReadOnlyDictionary<string, string> Environment => EnvironmentOf(Directory, Cache);

    /// <summary>
    /// The user's credential cache as KRB5CCNAME names it: <see cref="CachePath"/>, or after
    /// <see cref="UseKeyring"/> a key of the session keyring (RHEL's KEYRING: caches).
    /// </summary>
    public string Cache { get; private set; } = "";

    /// <summary>Keeps the user's tickets in a uniquely named key of the session keyring (which Usernet, started by the test, shares), destroyed with the KDC.</summary>
    public void UseKeyring() => Cache = $"KEYRING:session:usernet-{Guid.NewGuid():N}";

    private static Dictionary<string, string> EnvironmentOf(string directory, string cache = "") => new()
    {
        ["KRB5_CONFIG"] = Path.Combine(directory, "krb5.conf"),
        ["KRB5_KDC_PROFILE"] = Path.Combine(directory, "kdc.conf"),
        ["KRB5CCNAME"] = cache.Length > 0 ? cache : "FILE:" + Path.Combine(directory, "ccache"),
        // The acceptor's replay cache would otherwise go to /var/tmp, shared with the machine.
        ["KRB5RCACHETYPE"] = "none",
    };

    /// <summary>
    /// Starts a KDC whose realm maps <paramref name="serviceHosts"/> to it, with
    /// HTTP/<c>host</c> principals for <paramref name="serviceHosts"/> exported to
    /// <see cref="KeytabPath"/>.
    /// </summary>
    public static Kdc Start(params string[] serviceHosts)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-kdc-").FullName;
        try
        {
            // Squid's helper runs as squid's user (proxy) and reads the keytab here; the
            // database, its stash and the credential cache stay root's alone (0600).
            File.SetUnixFileMode(directory, (UnixFileMode)0x1ED);
            return Start(directory, serviceHosts);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static Kdc Start(string directory, string[] serviceHosts)
    {
        int port = Ports.Free();
        string password = "pw-" + Guid.NewGuid().ToString("N");
        // No DNS at all: the KDC is named by address, names are taken as written (no
        // canonicalization, no reverse lookup), and TCP is used so that a port is one socket.
        File.WriteAllText(Path.Combine(directory, "krb5.conf"), $"""
            [libdefaults]
                default_realm = {Realm}
                dns_lookup_kdc = false
                dns_lookup_realm = false
                dns_canonicalize_hostname = false
                rdns = false
                udp_preference_limit = 1
            [realms]
                {Realm} = {"{"}
                    kdc = 127.0.0.1:{port}
                {"}"}
            [domain_realm]
                .usernet.test = {Realm}
            """);
        File.WriteAllText(Path.Combine(directory, "kdc.conf"), $"""
            [kdcdefaults]
                kdc_listen = 127.0.0.1:{port}
                kdc_tcp_listen = 127.0.0.1:{port}
            [realms]
                {Realm} = {"{"}
                    database_name = {directory}/principal
                    key_stash_file = {directory}/stash
                    acl_file = {directory}/kadm5.acl
                    max_life = 1h
                {"}"}
            [logging]
                kdc = FILE:{directory}/kdc.log
            """);
        var environment = EnvironmentOf(directory);
        ProcessRunner.Check(ProcessRunner.Run("kdb5_util", ["create", "-s", "-r", Realm, "-P", "master-" + Guid.NewGuid().ToString("N")],
            environment: environment));
        Admin(directory, $"addprinc -pw {password} {User}");
        string keytab = Path.Combine(directory, KeytabName);
        foreach (string host in serviceHosts)
        {
            Admin(directory, $"addprinc -randkey HTTP/{host}");
            Admin(directory, $"ktadd -k {keytab} HTTP/{host}");
        }
        File.SetUnixFileMode(keytab, (UnixFileMode)0x1A4);
        string log = Path.Combine(directory, "kdc.log");
        var process = ManagedProcess.Start("krb5kdc", ["-n", "-r", Realm, "-P", Path.Combine(directory, "kdc.pid")], environment: environment);
        process.WaitUntilReady(() => File.Exists(log) && File.ReadAllText(log).Contains("commencing operation", StringComparison.Ordinal),
            log: () => File.Exists(log) ? File.ReadAllText(log) : "");
        return new Kdc(process, directory, password);
    }

    private const string KeytabName = "http.keytab";

    /// <summary>The service principals' keys, for the acceptor (squid's negotiate_kerberos_auth).</summary>
    public string KeytabPath => Path.Combine(Directory, KeytabName);

    /// <summary>Runs one kadmin.local query against the database (kadmin.local needs no kadmind): modprinc, say.</summary>
    public string Admin(string query) => Admin(Directory, query);

    private static string Admin(string directory, string query) =>
        ProcessRunner.Check(ProcessRunner.Run("kadmin.local", ["-q", query], environment: EnvironmentOf(directory)));

    /// <summary>kinit for the user, the password on stdin, into <see cref="CachePath"/>; <paramref name="lifetime"/> as kinit -l takes it.</summary>
    public ProcessResult Kinit(string? lifetime = null) =>
        ProcessRunner.Run("kinit", lifetime is null ? [Principal] : ["-l", lifetime, Principal], stdin: Password + "\n", environment: Environment);

    public ProcessResult Kdestroy() => ProcessRunner.Run("kdestroy", [], environment: Environment);

    /// <summary>The service tickets the KDC issued for HTTP/<paramref name="host"/> (its log's TGS_REQ lines with ISSUE).</summary>
    public string[] ServiceTicketsIssued(string host) => Log.Split('\n')
        .Where(l => l.Contains("TGS_REQ", StringComparison.Ordinal) && l.Contains("ISSUE", StringComparison.Ordinal)
            && l.Contains($"for HTTP/{host}@{Realm}", StringComparison.Ordinal))
        .ToArray();

    public void Dispose()
    {
        if (Cache.StartsWith("KEYRING:", StringComparison.Ordinal))
        {
            Kdestroy();
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
