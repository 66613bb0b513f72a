using Usernet.Control;
using Usernet.Netns;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Docker;
using Usernet.Services.Forwarding;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet docker</c>: Docker Desktop's job on a Linux host. dockerd runs in a Usernet guest
/// (network, mount, PID and cgroup namespaces, a /run of its own), the Docker API is served on a
/// host socket by a proxy that publishes the containers' ports on the host, and everything ends
/// with the command. Runs in the foreground until SIGINT or SIGTERM.
/// </summary>
internal static class DockerCommand
{
    /// <summary>
    /// How long dockerd gets to stop after SIGINT or SIGTERM: it gives each container its stop
    /// timeout (its own limit is 15 s, or the longest container timeout), then the namespace ends.
    /// </summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(90);

    /// <summary>How long dockerd may take to answer its first ping (containerd starts first).</summary>
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(120);

    /// <summary>Where the instance's runtime directory's guest/ appears in the guest.</summary>
    private const string GuestRuntime = "/run/usernet";

    /// <summary>Where the guest's daemon listens, in the host directory bound at /run/usernet in the guest.</summary>
    private const string GuestDaemonSocket = "dockerd.sock";

    public static CommandLine Options() => SettingsOptions.AddTo(new CommandLine())
        .Option("--data-root", "DIR", "dockerd's data (default /var/lib/usernet/docker for root, ~/.local/share/usernet/docker otherwise)")
        .Option("--docker-socket", "PATH", "where the Docker API is served on the host (default RUNTIME_DIR/NAME/docker.sock)")
        .Option("--instance", "NAME", "name of this instance for the control API (default docker)")
        .Option("--pcap", "FILE", "write every frame on the link to FILE (pcap format)")
        .Flag("--no-context", "leave the docker CLI's contexts alone (by default a context named usernet is created or updated)")
        .Flag("--help", "show this help", alias: "-h");

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = Options().Parse(args);
        if (line.Has("--help"))
        {
            Help.PrintDocker();
            return 0;
        }
        if (line.Positional.Count > 0 || line.Command is not null)
        {
            throw new UsageException("docker takes no command: run docker against the socket it prints (export DOCKER_HOST=...)");
        }
        if (line.Values("--publish").Contains("auto"))
        {
            throw new UsageException("--publish auto works only with 'usernet run'; containers' ports are published as they start");
        }
        if (Libc.GetEUid() != 0)
        {
            Console.Error.WriteLine("usernet: usernet docker needs root for now: dockerd runs as root in the guest's namespaces, " +
                "and its cgroup and overlay mounts need it (rootless dockerd is not supported yet; see the README)");
            return 1;
        }
        var options = SettingsOptions.Resolve(line, "docker");
        foreach (string spec in options.PublishSpecs)
        {
            RunCommand.ValidateSpec(spec);
        }
        try
        {
            return Run(line, options);
        }
        catch (DockerSetupException e)
        {
            Console.Error.WriteLine($"usernet: {e.Message}");
            return 1;
        }
    }

    private static int Run(CommandLine line, InstanceOptions options)
    {
        var programs = DockerPrograms.Find();
        using var dataRoot = DockerDataRoot.Open(line.Value("--data-root") ?? DockerDataRoot.DefaultPath);
        if (HostDaemons.UsingDataRoot(dataRoot.Path) is { } other)
        {
            throw new DockerSetupException($"{other} already uses data root {dataRoot.Path}: two daemons on one data root corrupt it; " +
                "stop that one, or give usernet docker another --data-root");
        }
        GuestHostServices services;
        try
        {
            services = GuestHostServices.Create(options.Name);
        }
        catch (InvalidOperationException e)
        {
            throw new DockerSetupException(e.Message);
        }
        string runtime = services.RuntimeDirectory;
        Directory.CreateDirectory(Path.Combine(runtime, "guest"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string socket = Path.GetFullPath(line.Value("--docker-socket") ?? Path.Combine(runtime, "docker.sock"));
        string daemonSocket = Path.Combine(runtime, "guest", GuestDaemonSocket);
        dataRoot.EnsureDaemonJson();
        dataRoot.WriteUserlandProxy(programs.UserlandProxy);
        dataRoot.RotateLog();

        Libc.RaiseFileLimit();
        DockerApiProxy? proxy = null;
        GuestCgroup? cgroup = null;
        var instance = new Instance(options);
        var daemon = new DockerClient(daemonSocket);
        var ports = new ContainerPorts(instance.Loop, instance.Publisher, daemon);
        var networks = new ContainerNetworks(instance.Loop, instance.Stack, daemon);
        instance.Destinations.AddNames(networks);
        GuestNamespace guest;
        GuestSetup setup;
        try
        {
            // The API socket is bound now, so that a clash shows before anything starts; it
            // accepts once the daemon answers (a client that comes earlier waits in the backlog).
            proxy = new DockerApiProxy(socket, daemonSocket, ports, networks);
            instance.PublishAtStart();
            cgroup = GuestCgroup.Create(options.Name);
            setup = RunCommand.GuestSetupFor(options, GuestAddressing.Static) with
            {
                CgroupNamespace = true,
                PrivateRun = true,
                Binds = GuestBinds(runtime, services, dataRoot),
            };
            guest = GuestNamespace.Start(DockerdCommand(programs, dataRoot, setup, options.Stack.Host), setup, cgroup);
        }
        catch (Exception e) when (e is InvalidOperationException or SystemCallException or IOException or UnauthorizedAccessException
            or PublishException or System.Net.Sockets.SocketException)
        {
            proxy?.DisposeAsync().AsTask().Wait();
            instance.DisposeAsync().AsTask().Wait();
            cgroup?.Remove(TimeSpan.FromSeconds(5));
            services.DisposeAsync().AsTask().Wait();
            throw new DockerSetupException(e.Message);
        }

        var run = new DockerRun(instance, guest, proxy, ports, networks, dataRoot, line.Has("--no-context") ? null : programs.Cli, StopLimit);
        using (guest)
        {
            RunCommand.AttachGuest(instance, guest, setup);
            using var exitWatcher = new ChildExitWatcher(instance.Loop, guest.InitPid, run.OnDaemonExit);
            instance.StartControl();
            var hostNetwork = new HostNetworkListeners(cgroup.Path, guest.InitPid, dataRoot.Path);
            instance.Publisher.Auto = new AutoPublisher(instance.Loop, instance.Publisher, guest.InitPid, hostNetwork.Owners);
            using var signals = run.HandleSignals();
            guest.Go();
            RunCommand.ReportSetupErrors(guest);
            run.ServeWhenReady(ReadyLimit);
            instance.Run();
        }
        int status = run.Finish();
        if (!cgroup.Remove(TimeSpan.FromSeconds(5)))
        {
            Log.Warn($"could not remove the guest's cgroup {cgroup.Path}");
        }
        services.DisposeAsync().AsTask().Wait();
        return status;
    }

    /// <summary>
    /// dockerd as the guest's command, its output appended to its log, after the guest's share of
    /// reaching containers from the host (<see cref="GuestForwarding"/>): its data root is the
    /// host's directory, its exec root and pid file are in the guest's own /run, its socket is
    /// in the directory the host sees, its configuration is <see cref="DockerDataRoot.DaemonJson"/>,
    /// and its userland proxy is the wrapper that listens on every guest address. Containers get
    /// the guest link's MTU (unless daemon.json says otherwise): Usernet ends their TCP
    /// connections itself, so no 1500-byte link lies on their way, and a container that sent
    /// 1500-byte packets would cost Usernet forty times the packets of one that sends 64 KiB.
    /// <c>host-gateway</c> (<c>--add-host=NAME:host-gateway</c>) is Usernet's host address, as in
    /// Docker Desktop, where dockerd alone would give the bridge's gateway in the guest.
    /// <c>--ip6tables</c> gives IPv6 networks the NAT that IPv4 ones have.
    /// </summary>
    private static List<string> DockerdCommand(DockerPrograms programs, DockerDataRoot dataRoot, GuestSetup setup, Wire.Ipv4Address host)
    {
        string forwarding = GuestForwarding.Script(setup.TapName, setup.Ipv6, dataRoot);
        List<string> command =
        [
            "/bin/sh", "-c", $"log=$1; shift; exec >>\"$log\" 2>&1\n{forwarding}exec \"$@\"", "usernet-dockerd", dataRoot.LogPath,
            programs.Dockerd,
            "--data-root", dataRoot.Path,
            "--exec-root", "/run/docker",
            "--pidfile", "/run/docker.pid",
            "--config-file", dataRoot.DaemonJson,
            "-H", $"unix://{GuestRuntime}/{GuestDaemonSocket}",
            "--userland-proxy-path", dataRoot.UserlandProxy,
        ];
        if (!dataRoot.Configures("mtu"))
        {
            // dockerd refuses a setting given both as a flag and in daemon.json.
            command.AddRange(["--mtu", setup.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        if (!dataRoot.Configures("host-gateway-ip"))
        {
            command.AddRange(["--host-gateway-ip", host.ToString()]);
        }
        if (!dataRoot.Configures("ip6tables") && !dataRoot.Configures("experimental"))
        {
            // A container's IPv6 address is one of its network's (fixed-cidr-v6, or a network
            // made with --ipv6), which Usernet has no route back to: its packets leave the guest
            // from the guest's own address only through dockerd's ip6tables NAT, on by default
            // since Docker 27 and before that behind --experimental.
            command.Add("--ip6tables");
            if (programs.DockerdMajorVersion() is not >= 27)
            {
                command.Add("--experimental");
            }
        }
        return command;
    }

    /// <summary>
    /// The host directories the guest sees: its daemon's socket directory, /run/host-services
    /// (the SSH agent's socket, which containers may bind), and the data root's
    /// configuration over /etc/docker, where the host has one (it is the host daemon's).
    /// </summary>
    private static List<GuestBind> GuestBinds(string runtime, GuestHostServices services, DockerDataRoot dataRoot)
    {
        var binds = new List<GuestBind> { new(Path.Combine(runtime, "guest"), GuestRuntime), services.Bind };
        if (Directory.Exists("/etc/docker"))
        {
            binds.Add(new GuestBind(dataRoot.ConfigDirectory, "/etc/docker"));
        }
        return binds;
    }
}
