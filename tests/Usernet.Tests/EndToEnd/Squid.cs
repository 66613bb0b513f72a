using System.Diagnostics;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A real squid on a loopback port with basic authentication (basic_ncsa_auth over an
/// htpasswd file), no cache, names resolved only by the test nameserver, and an access log
/// that names the authenticated user; given a certificate, it takes TLS on that port
/// (https_port: an https:// proxy). Stopped by PID.
/// </summary>
internal sealed class Squid : IDisposable
{
    private readonly Process _process;

    private Squid(Process process, string directory, int port)
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
        var process = ProcessRunner.Start("squid", ["-N", "-f", config]);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var squid = new Squid(process, directory, port);
        string[] proxy = tls is null ? ["-x", $"http://127.0.0.1:{port}"] : ["--proxy-cacert", tls.CaPath, "-x", $"https://127.0.0.1:{port}"];
        bool up = RunCommandTests.WaitUntil(() => process.HasExited
            || ProcessRunner.Run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", .. proxy, "http://127.0.0.1:9/"]).Stdout.Trim() == "407");
        if (!up || process.HasExited)
        {
            string log = File.Exists(Path.Combine(directory, "cache.log")) ? File.ReadAllText(Path.Combine(directory, "cache.log")) : "";
            squid.Dispose();
            throw new InvalidOperationException($"squid did not start: {log}");
        }
        return squid;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGKILL);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        // Its helper (basic_ncsa_auth) exits when squid's end of the pipe closes.
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
