using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real squid on a loopback port with basic authentication (basic_ncsa_auth over an
/// htpasswd file), no cache, names resolved only by the test nameserver, and an access log
/// that names the authenticated user; given a certificate, it takes TLS on that port
/// (https_port: an https:// proxy). Killed by PID, with its helpers.
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

    public static Squid Start(string nameserver, string user, string password, TestCertificates? tls = null)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-squid-").FullName;
        try
        {
            return Start(directory, nameserver, user, password, tls);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static Squid Start(string directory, string nameserver, string user, string password, TestCertificates? tls)
    {
        // Squid drops to its own user (proxy), which must write its logs here.
        File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
        string passwords = Path.Combine(directory, "passwd");
        ProcessRunner.Check(ProcessRunner.Run("htpasswd", ["-b", "-c", passwords, user, password]));
        File.SetUnixFileMode(passwords, (UnixFileMode)0x1A4);
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
            auth_param basic program /usr/lib/squid/basic_ncsa_auth {passwords}
            auth_param basic realm usernet-test
            acl authenticated proxy_auth REQUIRED
            http_access allow authenticated
            http_access deny all
            cache_effective_user proxy
            shutdown_lifetime 0 seconds
            logfile_rotate 0
            buffered_logs off
            """);
        var process = ManagedProcess.Start("squid", ["-N", "-f", config]);
        string[] proxy = tls is null ? ["-x", $"http://127.0.0.1:{port}"] : ["--proxy-cacert", tls.CaPath, "-x", $"https://127.0.0.1:{port}"];
        string cacheLog = Path.Combine(directory, "cache.log");
        process.WaitUntilReady(
            () => ProcessRunner.Run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", .. proxy, "http://127.0.0.1:9/"]).Stdout.Trim() == "407",
            log: () => File.Exists(cacheLog) ? File.ReadAllText(cacheLog) : "");
        return new Squid(process, directory, port);
    }

    public void Dispose()
    {
        // Its helpers (basic_ncsa_auth) are its children: the kill takes them too.
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
