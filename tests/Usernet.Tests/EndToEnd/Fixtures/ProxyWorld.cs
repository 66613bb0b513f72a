namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// What the proxy tests share: a test host running nginx on 80, 443 (TLS, a test CA's
/// certificate for every test name) and 8080, and dnsmasq on loopback answering web.test,
/// web.corp.test, a.blocked.test and web.other.test with the test host's address (and
/// NXDOMAIN for every other .test name). Usernet and squid resolve through it alone. The test
/// host also runs the <see cref="ScriptedOrigin"/> on its port. A POST to /upload is kept whole
/// (chunked ones decoded) in a file whose path nginx answers with, for the test to checksum.
/// </summary>
public sealed class ProxyWorld : IDisposable
{
    public static readonly string[] Names = ["web.test", "web.corp.test", "a.blocked.test", "web.other.test"];

    private readonly TestHost? _host;
    private readonly Dnsmasq? _dns;
    private readonly TestCertificates? _certificates;
    private readonly Nginx? _nginx;

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
            _nginx = Nginx.Start(root => $$"""
                listen 80 backlog=4096;
                listen 8080 backlog=4096;
                listen 443 ssl backlog=4096;
                ssl_certificate {{_certificates.CertificatePath}};
                ssl_certificate_key {{_certificates.KeyPath}};
                root {{root}};
                location = /echo { return 200 "port $server_port host $host\n"; }
                location = /post { client_max_body_size 10m; return 200 "got $content_length\n"; }
                location = /upload {
                    client_max_body_size 200m;
                    client_body_in_file_only on;
                    proxy_pass_request_body off;
                    proxy_set_header X-Body-File $request_body_file;
                    proxy_set_header Content-Length "";
                    proxy_set_header Transfer-Encoding "";
                    proxy_pass http://127.0.0.1:80/uploaded;
                }
                location = /uploaded { return 200 "$http_x_body_file\n"; }
                """, port: 80, inside: _host, workerConnections: 2048);
            File.WriteAllText(Path.Combine(Root, "index.html"), "hello from the test host\n");
            ProcessRunner.Check(ProcessRunner.Shell($"head -c 1048576 /dev/urandom > {Root}/one-mib"));
            ScriptedOrigin.Start(_host, Directory);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A temporary directory of the world's, removed with it.</summary>
    public string Directory => _nginx!.Directory;

    /// <summary>What nginx on the test host serves.</summary>
    public string Root => _nginx!.Root;

    internal TestHost Host => _host!;

    public string Nameserver => _dns!.Address;

    public string CaPath => _certificates!.CaPath;

    public void Dispose()
    {
        _host?.Dispose();
        _nginx?.Dispose();
        _dns?.Dispose();
        _certificates?.Dispose();
    }
}
