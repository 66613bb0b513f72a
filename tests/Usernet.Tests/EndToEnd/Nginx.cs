using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>A real nginx serving a temporary directory on one address and port, stopped by PID.</summary>
internal sealed class Nginx : IDisposable
{
    private readonly Process _process;

    private Nginx(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    public string Root => Path.Combine(Directory, "www");

    /// <summary>Starts nginx on <paramref name="address"/>; with a test host, inside its namespace.</summary>
    public static Nginx Start(string address = "127.0.0.1", TestHost? inside = null, int workerConnections = 1024)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("usernet-nginx-").FullName;
        string root = Path.Combine(directory, "www");
        System.IO.Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "index.html"), "hello from nginx\n");
        int port = inside is null ? Ports.Free() : 8080;
        string listen = address.Contains(':') ? $"[{address}]:{port}" : $"{address}:{port}";
        string listen6 = inside is not null ? $"listen [::]:{port} ipv6only=on;" : "";
        string config = WriteConfig(directory, root, listen, listen6, workerConnections);
        string[] command = ["nginx", "-c", config, "-p", directory];
        var process = inside is null ? ProcessRunner.Start(command[0], command[1..]) : inside.Start(command);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var nginx = new Nginx(process, directory, port);
        bool up = RunCommandTests.WaitUntil(() =>
            File.Exists(Path.Combine(directory, "nginx.pid")) || process.HasExited);
        if (!up || process.HasExited)
        {
            string log = File.Exists(Path.Combine(directory, "error.log")) ? File.ReadAllText(Path.Combine(directory, "error.log")) : "";
            nginx.Dispose();
            throw new InvalidOperationException($"nginx did not start: {log}");
        }
        return nginx;
    }

    /// <summary>
    /// Writes a configuration for nginx in the foreground, serving <paramref name="root"/> on
    /// <paramref name="listen"/>, and returns its path (to run nginx elsewhere, say in a guest).
    /// </summary>
    public static string WriteConfig(string directory, string root, string listen, string extraListen = "", int workerConnections = 1024)
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
                keepalive_timeout 60;
                server {
                    listen {{listen}} backlog=4096;
                    {{extraListen}}
                    root {{root}};
                }
            }
            """);
        return config;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGKILL);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Free ports on loopback.</summary>
internal static class Ports
{
    public static int Free()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
