using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real nginx in the foreground (one process, no master) serving a temporary directory, on
/// loopback or in a test host; killed by PID, and its directory removed, when disposed.
/// </summary>
internal sealed class Nginx : IDisposable
{
    private readonly ManagedProcess _process;

    private Nginx(ManagedProcess process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string Root => Path.Combine(Directory, "www");

    /// <summary>Starts nginx on <paramref name="address"/>; with a test host, inside its namespace (on 8080, and [::]:8080 too).</summary>
    public static Nginx Start(string address = "127.0.0.1", TestHost? inside = null, int workerConnections = 1024)
    {
        int port = inside is null ? Ports.Free() : 8080;
        string listen = address.Contains(':') ? $"[{address}]:{port}" : $"{address}:{port}";
        string listen6 = inside is not null ? $"listen [::]:{port} ipv6only=on;" : "";
        return Start(root => Server(root, listen, listen6), port, inside, workerConnections);
    }

    /// <summary>
    /// Starts nginx whose one server has the directives <paramref name="server"/> writes for the
    /// root it is given; <paramref name="port"/> is the one the caller chose for it.
    /// </summary>
    public static Nginx Start(Func<string, string> server, int port, TestHost? inside = null, int workerConnections = 1024)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-nginx-").FullName;
        try
        {
            string root = Path.Combine(directory, "www");
            System.IO.Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "index.html"), "hello from nginx\n");
            string[] command = ["nginx", "-c", WriteConfig(directory, server(root), workerConnections), "-p", directory];
            var process = inside is null ? ManagedProcess.Start(command[0], command[1..]) : inside.Start(command);
            process.WaitUntilReady(() => File.Exists(Path.Combine(directory, "nginx.pid")), log: () => ErrorLog(directory));
            return new Nginx(process, directory, port);
        }
        catch
        {
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Writes a configuration for nginx in the foreground, serving <paramref name="root"/> on
    /// <paramref name="listen"/>, and returns its path (to run nginx elsewhere, say in a guest).
    /// </summary>
    public static string WriteConfig(string directory, string root, string listen, int workerConnections = 1024) =>
        WriteConfig(directory, Server(root, listen, ""), workerConnections);

    private static string Server(string root, string listen, string extraListen) => $"""
        listen {listen} backlog=4096;
        {extraListen}
        root {root};
        keepalive_timeout 60;
        """;

    private static string WriteConfig(string directory, string server, int workerConnections)
    {
        string config = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(config, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log;
            events { worker_connections {{workerConnections}}; }
            worker_rlimit_nofile {{workerConnections * 2 + 64}};
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                server {
            {{server}}
                }
            }
            """);
        return config;
    }

    private static string ErrorLog(string directory)
    {
        string path = Path.Combine(directory, "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public void Dispose()
    {
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
