using System.Runtime.InteropServices;
using Usernet.Control;
using Usernet.Link;
using Usernet.Netns;
using Usernet.Platform.Interop;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet run [options] [-- CMD [ARGS]]</c>: runs a command in its own network namespace
/// whose only link is a TAP device served by this process, and exits with its status.
/// </summary>
internal static class RunCommand
{
    public static CommandLine Options() => SettingsOptions.AddTo(new CommandLine())
        .Option("--addressing", "MODE", "static (default), dhcp, or none: how tap0 gets its address")
        .Option("--pcap", "FILE", "write every frame on the link to FILE (pcap format)")
        .Option("--pcap-limit", "SIZE", "stop capturing (the links go on) before FILE passes SIZE bytes; K, M, G: KiB, MiB, GiB")
        .Option("--instance", "NAME", "name of this instance for the control API (default run-PID)")
        .Flag("--help", "show this help", alias: "-h");

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = Options().Parse(args);
        if (line.Has("--help"))
        {
            Help.PrintRun();
            return 0;
        }
        if (line.Positional.Count > 0)
        {
            throw new UsageException($"unexpected argument '{line.Positional[0]}': put the command after --, as in: usernet run -- {string.Join(' ', line.Positional)}");
        }
        var command = line.Command is { Count: > 0 } given ? given : DefaultShell();
        var addressing = ParseAddressing(line.Value("--addressing"));
        var options = SettingsOptions.Resolve(line, $"run-{Environment.ProcessId}");
        foreach (string spec in options.PublishSpecs)
        {
            ValidateSpec(spec);
        }
        Libc.RaiseFileLimit();
        Instance instance;
        try
        {
            // Before anything starts: the control socket's directory must be usable.
            InstanceDirectory.EnsureExists();
            instance = new Instance(options);
        }
        catch (IOException e)
        {
            // The control socket's directory, or the capture file.
            Console.Error.WriteLine($"usernet: {e.Message}");
            return GuestInit.SetupFailed;
        }
        try
        {
            instance.PublishAtStart();
        }
        catch (PublishException e)
        {
            instance.DisposeAsync().AsTask().Wait();
            Console.Error.WriteLine($"usernet: {e.Message}");
            return GuestInit.SetupFailed;
        }
        GuestHostServices? services = null;
        GuestNamespace guest;
        GuestSetup setup;
        try
        {
            services = GuestHostServices.Create(options.Name);
            setup = GuestSetupFor(options, addressing) with { Binds = HostServicesBind(services) };
            guest = GuestNamespace.Start(command, setup);
        }
        catch (Exception e) when (e is InvalidOperationException or SystemCallException or IOException)
        {
            services?.DisposeAsync().AsTask().Wait();
            instance.DisposeAsync().AsTask().Wait();
            Console.Error.WriteLine($"usernet: {e.Message}");
            return GuestInit.SetupFailed;
        }
        int exitCode = GuestInit.SetupFailed;
        using (guest)
        {
            AttachGuest(instance, guest, setup);
            using var exitWatcher = new ChildExitWatcher(instance.Loop, guest.InitPid, code =>
            {
                exitCode = code;
                instance.Stop();
            });
            instance.StartControl();
            if (line.Values("--publish").Contains("auto"))
            {
                instance.Publisher.Auto = new AutoPublisher(instance.Loop, instance.Publisher, guest.InitPid);
            }
            using var signals = new SignalRelay(guest.Signal, () => instance.Proxy.Reload("SIGHUP"));
            guest.Go();
            ReportSetupErrors(guest);
            try
            {
                instance.Confine();
            }
            catch (Exception e) when (e is InvalidOperationException or SystemCallException)
            {
                Console.Error.WriteLine($"usernet: cannot give up the privileges no longer needed: {e.Message}");
                guest.Signal(Libc.SIGKILL);
                instance.DisposeAsync().AsTask().Wait();
                services.DisposeAsync().AsTask().Wait();
                return GuestInit.SetupFailed;
            }
            instance.Run();
            instance.DeliverPending(TimeSpan.FromSeconds(10));
        }
        instance.DisposeAsync().AsTask().Wait();
        services.DisposeAsync().AsTask().Wait();
        return exitCode;
    }

    /// <summary>
    /// /run/host-services in the guest, which shares the host's /run: the bind needs a mount
    /// point there. Root makes it once (an empty directory that stays, as /run/netns does for
    /// ip netns); without root the guest gets one only where the host has it.
    /// </summary>
    private static List<GuestBind> HostServicesBind(GuestHostServices services) =>
        !GuestNamespace.IsRootless || Directory.Exists(GuestHostServices.GuestDirectory) ? [services.Bind] : [];

    /// <summary>A publish spec that does not parse is a usage error, found before anything starts.</summary>
    internal static void ValidateSpec(string spec)
    {
        try
        {
            PublishSpec.Parse(spec);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--publish: {e.Message}");
        }
    }

    /// <summary>What the init is told: the first guest's addresses, routes and DNS, on tap0 with a new MAC.</summary>
    internal static GuestSetup GuestSetupFor(InstanceOptions options, GuestAddressing addressing)
    {
        var stack = options.Stack;
        return new GuestSetup
        {
            Mac = MacAddress.NewLocal(),
            Mtu = stack.Mtu ?? TapLink.TapMtu,
            Addressing = addressing,
            Address = stack.FirstGuest,
            PrefixLength = stack.PrefixLength,
            Gateway = stack.Gateway,
            Ipv4 = stack.Ipv4Enabled,
            Ipv6 = stack.Ipv6Enabled,
            Address6 = stack.FirstGuestV6,
            PrefixLength6 = stack.Ipv6Prefix.PrefixLength,
            Gateway6 = stack.GatewayLinkLocal,
            Nameservers = Nameservers(stack),
            SearchDomains = options.Dhcp.SearchDomains,
        };
    }

    /// <summary>Puts the guest's TAP on the instance's switch; the guest keeps its configured address, also when it asks by DHCP.</summary>
    internal static void AttachGuest(Instance instance, GuestNamespace guest, GuestSetup setup)
    {
        var stack = instance.Stack.Options;
        instance.Dhcp.Reserve(setup.Mac, stack.FirstGuest);
        instance.Dhcp6.Reserve(setup.Mac, stack.FirstGuestV6);
        instance.Attach(new TapLink(guest.TapFd, setup.TapName));
    }

    /// <summary>Prints what the init reports going wrong after "go" (addresses, DHCP, resolv.conf), from a thread of its own.</summary>
    internal static void ReportSetupErrors(GuestNamespace guest) =>
        new Thread(() => ReportSetup(guest)) { IsBackground = true, Name = "setup report" }.Start();

    /// <summary>The gateway's addresses, of each family the guest has.</summary>
    private static List<string> Nameservers(Stack.StackOptions stack)
    {
        var servers = new List<string>();
        if (stack.Ipv4Enabled)
        {
            servers.Add(stack.Gateway.ToString());
        }
        if (stack.Ipv6Enabled)
        {
            servers.Add(stack.GatewayV6.ToString());
        }
        return servers;
    }

    private static void ReportSetup(GuestNamespace guest)
    {
        string? message;
        try
        {
            message = guest.Channel.Receive();
        }
        catch (SystemCallException)
        {
            return;
        }
        if (message is not null && message.StartsWith("error ", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"usernet: setting up the namespace failed: {message[6..]}");
        }
    }

    private static GuestAddressing ParseAddressing(string? value) => value switch
    {
        null or "static" => GuestAddressing.Static,
        "dhcp" => GuestAddressing.Dhcp,
        "none" => GuestAddressing.None,
        _ => throw new UsageException($"--addressing: '{value}' is not one of static, dhcp, none"),
    };

    /// <summary>With no command, an interactive shell, as `pasta` and `unshare` do.</summary>
    private static List<string> DefaultShell()
    {
        string shell = Environment.GetEnvironmentVariable("SHELL") is { Length: > 0 } s ? s : "/bin/sh";
        return [shell];
    }
}

/// <summary>
/// Relays the signals `usernet run` receives to the command. A signal from the terminal
/// (Ctrl-C) has already reached the command, which shares our process group, so it is not
/// sent twice. The relay only cancels our own default termination: we exit when the command does.
/// SIGHUP also reloads Usernet's settings (the relay to the command stays, as documented).
/// </summary>
internal sealed class SignalRelay : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = new();

    public SignalRelay(Action<int> relay, Action? onHangUp = null)
    {
        (PosixSignal Signal, int Number)[] relayed =
        [
            (PosixSignal.SIGTERM, Libc.SIGTERM),
            (PosixSignal.SIGINT, Libc.SIGINT),
            (PosixSignal.SIGQUIT, Libc.SIGQUIT),
            (PosixSignal.SIGHUP, Libc.SIGHUP),
            ((PosixSignal)Libc.SIGUSR1, Libc.SIGUSR1),
            ((PosixSignal)Libc.SIGUSR2, Libc.SIGUSR2),
        ];
        foreach (var (signal, number) in relayed)
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                if (number == Libc.SIGHUP && onHangUp is not null)
                {
                    Task.Run(onHangUp);
                }
                bool fromTerminal = number is Libc.SIGINT or Libc.SIGQUIT && InForegroundOfTerminal();
                if (!fromTerminal)
                {
                    relay(number);
                }
            }));
        }
    }

    private static bool InForegroundOfTerminal() =>
        Libc.IsATty(0) == 1 && Libc.TcGetPgrp(0) == Libc.GetPgrp();

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
