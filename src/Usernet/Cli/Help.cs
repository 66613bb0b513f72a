namespace Usernet.Cli;

/// <summary>Help texts.</summary>
internal static class Help
{
    public static void PrintMain()
    {
        Console.WriteLine("""
            usernet: user-space networking for containers and VMs

            Usage:
              usernet doctor [--json]                    check this machine for what Usernet needs, and test it live
              usernet run [OPTIONS] [-- CMD [ARGS...]]   run CMD (default: a shell) in its own network namespace
              usernet serve [OPTIONS]                    serve VMs on QEMU stream/datagram sockets or TAP devices
              usernet docker [OPTIONS]                   run dockerd in a Usernet guest and serve the Docker API on the host
              usernet config [OPTIONS]                   print the effective settings and where each came from
              usernet stats [--instance NAME] [--prometheus]  counters of a running instance
              usernet flows [--follow] [--json]          the flows a running instance carried, one line each as they end
              usernet top [--once] [--sort bytes|rate|name]  a live view of a running instance: guests, busiest flows, DNS, drops, refusals
              usernet port add|rm|ls [--instance NAME]   published ports of a running instance
              usernet dns add|rm|ls [--instance NAME]    the DNS server's own names of a running instance
              usernet ping ADDRESS-OR-NAME [-c N]        ping a guest, or an address behind one, through the stack
              usernet proxy reload|show [--instance NAME] reload the settings now, or show the proxy policy in force
              usernet policy reload|show [--instance NAME] reload the settings now, or show the egress policy and its verdicts
              usernet version                            print the version

            Run 'usernet COMMAND --help' for a command's options.
            """);
    }

    public static void PrintRun()
    {
        Console.WriteLine("Usage: usernet run [OPTIONS] [-- CMD [ARGS...]]\n");
        Console.WriteLine("Runs CMD in new network, mount and PID namespaces whose only interface, tap0, is served");
        Console.WriteLine("by Usernet. Exits with CMD's status (128+N if killed by signal N, 125 if setup failed).");
        Console.WriteLine("The host's SSH agent ($SSH_AUTH_SOCK) is at /run/host-services/ssh-auth.sock in CMD's namespace.\n");
        Console.WriteLine("Options:");
        foreach (string line in RunCommand.Options().HelpLines())
        {
            Console.WriteLine(line);
        }
    }

    public static void PrintServe()
    {
        Console.WriteLine("Usage: usernet serve [OPTIONS]\n");
        Console.WriteLine("Serves VMs until stopped (SIGINT or SIGTERM). Each --listen-qemu connection, datagram peer");
        Console.WriteLine("or --tap device is a guest on the same virtual LAN.\n");
        Console.WriteLine("Options:");
        foreach (string line in ServeCommand.Options().HelpLines())
        {
            Console.WriteLine(line);
        }
        Console.WriteLine();
        Console.WriteLine("Warning: a tcp: or udp: listener has no access control. Any user on this host, and any host");
        Console.WriteLine("that can reach its address, can connect to it and so join the LAN as a guest: reach the");
        Console.WriteLine("other guests, and the host's network through Usernet. unix: and unixgram: sockets are mode");
        Console.WriteLine("0600, for their owner alone: use them where the VM runs on this host.");
    }

    public static void PrintDoctor()
    {
        Console.WriteLine("Usage: usernet doctor [OPTIONS]\n");
        Console.WriteLine("Checks this machine for everything Usernet can use (each with what it enables and the command");
        Console.WriteLine("that fixes it), then runs a live self-test that sends nothing beyond this machine: a guest");
        Console.WriteLine("namespace, DHCP, ARP, ping, DNS and TCP through an in-process Usernet. The only query that");
        Console.WriteLine("may leave is one for the root zone's SOA, to the first nameserver Usernet would forward to.");
        Console.WriteLine("Exits 0 when Usernet can run here, 1 when a check failed.\n");
        Console.WriteLine("Options:");
        foreach (string line in DoctorCommand.Options().HelpLines())
        {
            Console.WriteLine(line);
        }
    }

    public static void PrintDocker()
    {
        Console.WriteLine("Usage: usernet docker [OPTIONS]\n");
        Console.WriteLine("Runs dockerd in a Usernet guest (network, mount, PID and cgroup namespaces) and serves the");
        Console.WriteLine("Docker API on a host socket, publishing containers' ports (-p, -P) on the host. Prints");
        Console.WriteLine("export DOCKER_HOST=... once dockerd answers; runs until SIGINT or SIGTERM. Needs root.");
        Console.WriteLine("The host's SSH agent ($SSH_AUTH_SOCK) is at /run/host-services/ssh-auth.sock in the guest, for");
        Console.WriteLine("containers to bind (--mount type=bind,src=/run/host-services/ssh-auth.sock,target=...).\n");
        Console.WriteLine("Options:");
        foreach (string line in DockerCommand.Options().HelpLines())
        {
            Console.WriteLine(line);
        }
    }
}
