using System.Diagnostics;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// What the proxy tests share: a test host running nginx on 80, 443 (TLS, a test CA's
/// certificate for every test name) and 8080, and dnsmasq on loopback answering web.test,
/// web.corp.test, a.blocked.test and web.other.test with the test host's address (and
/// NXDOMAIN for every other .test name). Usernet and squid resolve through it alone. The test
/// host also runs the <see cref="ScriptedOrigin"/> on its port.
/// </summary>
public sealed class ProxyWorld : IDisposable
{
    public static readonly string[] Names = ["web.test", "web.corp.test", "a.blocked.test", "web.other.test"];

    private readonly TestHost? _host;
    private readonly Dnsmasq? _dns;
    private readonly TestCertificates? _certificates;
    private readonly Process? _nginx;

    public ProxyWorld()
    {
        if (!TestEnvironment.IsRoot)
        {
            return;
        }
        try
        {
            _host = TestHost.Create();
            _dns = Dnsmasq.Start(Names.Select(n => $"--address=/{n}/{_host.Address}").ToArray());
            _certificates = new TestCertificates(Names);
            Directory = System.IO.Directory.CreateTempSubdirectory("usernet-proxyworld-").FullName;
            Root = Path.Combine(Directory, "www");
            System.IO.Directory.CreateDirectory(Root);
            File.WriteAllText(Path.Combine(Root, "index.html"), "hello from the test host\n");
            ProcessRunner.Check(ProcessRunner.Shell($"head -c 1048576 /dev/urandom > {Root}/one-mib"));
            File.WriteAllText(Path.Combine(Directory, "nginx.conf"), $$"""
                daemon off;
                master_process off;
                worker_processes 1;
                pid {{Directory}}/nginx.pid;
                error_log {{Directory}}/error.log;
                events { worker_connections 2048; }
                worker_rlimit_nofile 4200;
                http {
                    access_log off;
                    client_body_temp_path {{Directory}}/body;
                    proxy_temp_path {{Directory}}/proxy;
                    fastcgi_temp_path {{Directory}}/fastcgi;
                    uwsgi_temp_path {{Directory}}/uwsgi;
                    scgi_temp_path {{Directory}}/scgi;
                    server {
                        listen 80 backlog=4096;
                        listen 8080 backlog=4096;
                        listen 443 ssl backlog=4096;
                        ssl_certificate {{_certificates.CertificatePath}};
                        ssl_certificate_key {{_certificates.KeyPath}};
                        root {{Root}};
                        location = /echo { return 200 "port $server_port host $host\n"; }
                        location = /post { client_max_body_size 10m; return 200 "got $content_length\n"; }
                    }
                }
                """);
            _nginx = _host.Start("nginx", "-c", Path.Combine(Directory, "nginx.conf"), "-p", Directory);
            _nginx.OutputDataReceived += (_, _) => { };
            _nginx.ErrorDataReceived += (_, _) => { };
            _nginx.BeginOutputReadLine();
            _nginx.BeginErrorReadLine();
            if (!RunCommandTests.WaitUntil(() => File.Exists(Path.Combine(Directory, "nginx.pid")) || _nginx.HasExited) || _nginx.HasExited)
            {
                throw new InvalidOperationException("nginx did not start on the test host");
            }
            ScriptedOrigin.Start(_host, Directory);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; } = "";

    public string Root { get; } = "";

    internal TestHost Host => _host!;

    public string Nameserver => _dns!.Address;

    public string CaPath => _certificates!.CaPath;

    public void Dispose()
    {
        if (_nginx is { HasExited: false })
        {
            Usernet.Platform.Interop.Libc.Kill(_nginx.Id, Usernet.Platform.Interop.Libc.SIGKILL);
            _nginx.WaitForExit(5000);
        }
        _host?.Dispose();
        _dns?.Dispose();
        _certificates?.Dispose();
        if (Directory.Length > 0 && System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
