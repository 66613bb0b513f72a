using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real squid on a loopback port with basic authentication (basic_ncsa_auth over an
/// htpasswd file), no cache, names resolved only by the test nameserver, and an access log
/// that names the authenticated user; given a certificate, it takes TLS on that port
/// (https_port: an https:// proxy). Or Negotiate instead: Kerberos through squid's
/// negotiate_kerberos_auth and a <see cref="Kdc"/>'s keytab, the access log naming the
/// principal. Killed by PID, with its helpers.
/// </summary>
internal sealed class Squid : IDisposable
{
    private readonly ManagedProcess _process;

    private Squid(ManagedProcess process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string AccessLogPath => Path.Combine(Directory, "access.log");

    public string AccessLog => File.Exists(AccessLogPath) ? File.ReadAllText(AccessLogPath) : "";

    /// <summary>
    /// The access log once it holds <paramref name="expected"/> (or after 10 s, for the
    /// assertion to show it). Squid writes a CONNECT's line when the tunnel closes, which is
    /// after the guest's client has exited: Usernet closes the upstream side when it hears the
    /// guest's FIN, a moment later on a loaded machine.
    /// </summary>
    public string AccessLogWith(string expected)
    {
        Wait.Until(() => AccessLog.Contains(expected, StringComparison.Ordinal), 10);
        return AccessLog;
    }

    public static Squid Start(string nameserver, string user, string password, TestCertificates? tls = null) =>
        InDirectory(directory =>
        {
            string passwords = Path.Combine(directory, "passwd");
            ProcessRunner.Check(ProcessRunner.Run("htpasswd", ["-b", "-c", passwords, user, password]));
            File.SetUnixFileMode(passwords, (UnixFileMode)0x1A4);
            return Start(directory, nameserver, $"""
                auth_param basic program /usr/lib/squid/basic_ncsa_auth {passwords}
                auth_param basic realm usernet-test
                """, tls, environment: null);
        });

    /// <summary>
    /// Squid that takes NTLM alone, through Samba's ntlm_auth and <paramref name="samba"/>'s
    /// winbindd (started with it, in its mount namespace): a real NTLM exchange against a real
    /// server's password database.
    /// </summary>
    public static Squid StartNtlm(string nameserver, SambaNtlm samba) =>
        InDirectory(directory => Start(directory, nameserver, $"""
            auth_param ntlm program {samba.SquidHelper}
            auth_param ntlm children 2
            auth_param ntlm keep_alive on
            """, tls: null, environment: null, wrapper: samba.Wrapper));

    /// <summary>
    /// Squid that takes Negotiate alone, as a Kerberos-only corporate proxy does: its helper
    /// accepts tickets for HTTP/<paramref name="serviceHost"/> with the KDC's keytab (and its
    /// krb5.conf, never the machine's).
    /// </summary>
    public static Squid StartNegotiate(string nameserver, Kdc kdc, string serviceHost) =>
        InDirectory(directory => Start(directory, nameserver, $"""
            auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth -s HTTP/{serviceHost}@{Kdc.Realm} -k {kdc.KeytabPath}
            auth_param negotiate children 2
            auth_param negotiate keep_alive on
            """, tls: null, environment: kdc.Environment));

    private static Squid InDirectory(Func<string, Squid> start)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-squid-").FullName;
        try
        {
            // Squid drops to its own user (proxy), which must write its logs here.
            File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
            return start(directory);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// With the default (512 KB), squid aborted about half of the 100 MiB POSTs authenticated
    /// by Negotiate (TCP_MISS_ABORTED, the client's connection reset), curl straight to squid
    /// as much as through Usernet; with a buffer larger than the body, none of them.
    /// </summary>
    private const string BodyBuffer = "client_request_buffer_max_size 128 MB";

    private static Squid Start(string directory, string nameserver, string authentication, TestCertificates? tls,
        IReadOnlyDictionary<string, string>? environment, string[]? wrapper = null)
    {
        int port = Ports.Free();
        string config = Path.Combine(directory, "squid.conf");
        string listen = tls is null ? $"http_port 127.0.0.1:{port}" : $"https_port 127.0.0.1:{port} tls-cert={tls.CertificatePath} tls-key={tls.KeyPath}";
        File.WriteAllText(config, $"""
            {listen}
            pid_filename {directory}/squid.pid
            cache_log {directory}/cache.log
            access_log stdio:{directory}/access.log squid
            cache deny all
            cache_mem 8 MB
            coredump_dir {directory}
            netdb_filename none
            pinger_enable off
            dns_nameservers {nameserver}
            hosts_file none
            {authentication}
            acl authenticated proxy_auth REQUIRED
            http_access allow authenticated
            http_access deny all
            cache_effective_user proxy
            {BodyBuffer}
            shutdown_lifetime 0 seconds
            logfile_rotate 0
            buffered_logs off
            """);
        string[] command = [.. wrapper ?? [], "squid", "-N", "-f", config];
        var process = ManagedProcess.Start(command[0], command[1..], environment: environment);
        string[] proxy = tls is null ? ["-x", $"http://127.0.0.1:{port}"] : ["--proxy-cacert", tls.CaPath, "-x", $"https://127.0.0.1:{port}"];
        string cacheLog = Path.Combine(directory, "cache.log");
        process.WaitUntilReady(
            () => ProcessRunner.Run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", .. proxy, "http://127.0.0.1:9/"]).Stdout.Trim() == "407",
            log: () => File.Exists(cacheLog) ? File.ReadAllText(cacheLog) : "");
        return new Squid(process, directory, port);
    }

    public void Dispose()
    {
        // Its helpers (basic_ncsa_auth, negotiate_kerberos_auth) are its children: the kill takes them too.
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
