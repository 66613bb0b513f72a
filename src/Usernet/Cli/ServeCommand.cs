using System.Runtime.InteropServices;
using Usernet.Link;
using Usernet.Platform.Interop;
using Usernet.Services.Dns;
using Usernet.Services.Forwarding;
using Usernet.Services.HostServices;
using Usernet.Services.Proxy;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet serve</c>: attaches VMs (QEMU stream or datagram sockets, inherited fds) and
/// existing TAP devices to one virtual LAN, and runs until stopped.
/// </summary>
internal static class ServeCommand
{
    public static CommandLine Options() => SettingsOptions.AddTo(new CommandLine())
        .Option("--listen-qemu", "ADDR", "accept QEMU -netdev stream/socket connections on unix:PATH or tcp:IP:PORT (see below: tcp: is open to all)", repeatable: true)
        .Option("--listen-dgram", "ADDR", "exchange one frame per datagram on unixgram:PATH or udp:IP:PORT (QEMU -netdev dgram, vfkit; udp: is open to all)", repeatable: true)
        .Option("--tap", "NAME", "attach the existing TAP device NAME", repeatable: true)
        .Option("--fd", "N", "a connected stream socket inherited as fd N, QEMU framing", repeatable: true)
        .Option("--pcap", "FILE", "write every frame on every link to FILE (pcap format)")
        .Option("--pcap-limit", "SIZE", "stop capturing (the links go on) before FILE passes SIZE bytes; K, M, G: KiB, MiB, GiB")
        .Option("--instance", "NAME", "name of this instance for the control API (default serve-PID)")
        .Option("--ssh-agent-port", "PORT", "relay each guest connection to the gateway's TCP PORT to the host's SSH agent (off by default)")
        .Flag("--help", "show this help", alias: "-h");

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = Options().Parse(args);
        if (line.Has("--help"))
        {
            Help.PrintServe();
            return 0;
        }
        if (line.Positional.Count > 0 || line.Command is not null)
        {
            throw new UsageException("serve takes no command; did you mean 'usernet run'?");
        }
        var qemu = line.Values("--listen-qemu").Select(v => LinkEndpoint.Parse(v, datagram: false)).ToList();
        var dgram = line.Values("--listen-dgram").Select(v => LinkEndpoint.Parse(v, datagram: true)).ToList();
        var fds = line.Values("--fd").Select(v => int.TryParse(v, out int fd) && fd > 2 ? fd : throw new UsageException($"--fd: '{v}' is not an inherited fd number (3 or more)")).ToList();
        var taps = line.Values("--tap");
        if (line.Values("--publish").Contains("auto"))
        {
            // It reads the guest's listening sockets from its namespace, which only run has.
            throw new UsageException("--publish auto works only with 'usernet run'; publish a VM's ports by number");
        }
        if (qemu.Count + dgram.Count + fds.Count + taps.Count == 0)
        {
            throw new UsageException("nothing to serve: give at least one --listen-qemu, --listen-dgram, --tap or --fd");
        }
        ushort? agentPort = ParseAgentPort(line.Value("--ssh-agent-port"));
        var options = SettingsOptions.Resolve(line, $"serve-{Environment.ProcessId}");
        Libc.RaiseFileLimit();
        Instance instance;
        SshAgentRelay? agent = null;
        try
        {
            instance = new Instance(options);
        }
        catch (IOException e)
        {
            // The capture file.
            Console.Error.WriteLine($"usernet: {e.Message}");
            return 1;
        }
        try
        {
            foreach (var endpoint in qemu.Concat(dgram).Where(e => e.Kind is LinkEndpointKind.Tcp or LinkEndpointKind.Udp))
            {
                Log.Warn($"{endpoint} has no access control: any user on this host, and any host that can reach {endpoint.Endpoint}, can join the guests' LAN through it; prefer a unix socket");
            }
            foreach (var endpoint in qemu)
            {
                var listener = StreamListener.Listen(endpoint, instance.Attach);
                listener.Start(instance.Loop);
                instance.AddListener(listener);
                Console.Error.WriteLine($"usernet: accepting QEMU stream connections on {endpoint}");
            }
            foreach (var endpoint in dgram)
            {
                var listener = DatagramListener.Bind(endpoint, instance.Switch.Attach);
                listener.Start(instance.Loop, instance.Switch);
                instance.AddListener(listener);
                Console.Error.WriteLine($"usernet: exchanging datagrams on {endpoint}");
            }
            foreach (int fd in fds)
            {
                instance.Attach(new StreamLink(fd, $"fd:{fd}"));
            }
            foreach (string tap in taps)
            {
                instance.Attach(TapLink.Open(tap));
                Console.Error.WriteLine($"usernet: attached TAP device {tap}");
            }
            foreach (string spec in options.PublishSpecs)
            {
                RunCommand.ValidateSpec(spec);
            }
            instance.PublishAtStart();
            if (agentPort is { } port)
            {
                agent = SshAgentRelay.ForHostAgent();
                instance.Connector.GatewayServices.Add(port, (socket, _) => agent.Accept(socket));
                Console.Error.WriteLine($"usernet: the host's SSH agent is on the gateway's TCP port {port}");
            }
            instance.StartControl();
            Console.Error.WriteLine($"usernet: control socket {instance.ControlSocket}");
        }
        catch (Exception e) when (e is SystemCallException or IOException or ArgumentException or InvalidOperationException or PublishException)
        {
            instance.DisposeAsync().AsTask().Wait();
            agent?.DisposeAsync().AsTask().Wait();
            Console.Error.WriteLine($"usernet: {e.Message}");
            return 1;
        }
        using var stop = new StopSignals(instance.Stop, () => instance.Proxy.Reload("SIGHUP"));
        try
        {
            instance.Confine();
        }
        catch (Exception e) when (e is InvalidOperationException or SystemCallException)
        {
            Console.Error.WriteLine($"usernet: cannot give up the privileges no longer needed: {e.Message}");
            instance.DisposeAsync().AsTask().Wait();
            agent?.DisposeAsync().AsTask().Wait();
            return 1;
        }
        instance.Run();
        instance.DeliverPending(TimeSpan.FromSeconds(30));
        instance.DisposeAsync().AsTask().Wait();
        agent?.DisposeAsync().AsTask().Wait();
        return 0;
    }

    /// <summary>A TCP port of the gateway that none of its own services (DNS, the proxy) uses.</summary>
    private static ushort? ParseAgentPort(string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (!ushort.TryParse(value, out ushort port) || port == 0)
        {
            throw new UsageException($"--ssh-agent-port: '{value}' is not a TCP port (1-65535)");
        }
        if (port is DnsServer.Port or HttpProxyServer.Port)
        {
            throw new UsageException($"--ssh-agent-port: the gateway's port {port} is taken by its {(port == DnsServer.Port ? "DNS server" : "HTTP proxy")}");
        }
        return port;
    }
}

/// <summary>SIGINT and SIGTERM end the loop, so that sockets are removed on the way out; SIGHUP reloads the settings.</summary>
internal sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    public StopSignals(Action stop, Action reload)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop(); }),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop(); }),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Task.Run(reload); }),
        ];
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
