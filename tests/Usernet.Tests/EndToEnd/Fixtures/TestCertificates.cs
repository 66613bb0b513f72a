namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>A test CA and a server certificate it signed for the given names (or IP addresses), made with openssl in a temporary directory.</summary>
internal sealed class TestCertificates : IDisposable
{
    public TestCertificates(params string[] names)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("usernet-certs-").FullName;
        string san = string.Join(",", names.Select(n => System.Net.IPAddress.TryParse(n, out _) ? $"IP:{n}" : $"DNS:{n}"));
        Run($"openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=usernet-test-ca -keyout ca.key -out ca.pem");
        Run($"openssl req -newkey rsa:2048 -nodes -subj /CN={names[0]} -keyout server.key -out server.csr");
        File.WriteAllText(Path.Combine(Directory, "ext.cnf"), $"subjectAltName={san}\n");
        Run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out server.pem");
    }

    public string Directory { get; }

    public string CaPath => Path.Combine(Directory, "ca.pem");

    public string CertificatePath => Path.Combine(Directory, "server.pem");

    public string KeyPath => Path.Combine(Directory, "server.key");

    private void Run(string command) =>
        ProcessRunner.Check(ProcessRunner.Shell($"cd {Directory} && {command} 2>&1"));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
