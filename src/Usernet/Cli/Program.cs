using Usernet.Netns;

namespace Usernet.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Help.PrintMain();
            return 2;
        }
        try
        {
            return args[0] switch
            {
                "run" => RunCommand.Execute(args[1..]),
                "serve" => ServeCommand.Execute(args[1..]),
                "docker" => DockerCommand.Execute(args[1..]),
                "stats" => StatsCommand.Execute(args[1..]),
                "flows" => FlowsCommand.Execute(args[1..]),
                "top" => TopCommand.Execute(args[1..]),
                "config" => ConfigCommand.Execute(args[1..]),
                "port" => PortCommand.Execute(args[1..]),
                "dns" => DnsCommand.Execute(args[1..]),
                "ping" => PingCommand.Execute(args[1..]),
                "proxy" => ProxyCommand.Execute(args[1..]),
                "policy" => PolicyCommand.Execute(args[1..]),
                "doctor" => DoctorCommand.Execute(args[1..]),
                "version" or "--version" => PrintVersion(),
                "help" or "--help" or "-h" => PrintHelp(),
                GuestInit.CommandName => GuestInit.Run(args),
                Doctor.GuestProbe.CommandName => Doctor.GuestProbe.Run(args),
                _ => throw new UsageException($"unknown command '{args[0]}' (see 'usernet --help')"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"usernet: {e.Message}");
            return 2;
        }
    }

    private static int PrintVersion()
    {
        Console.WriteLine($"usernet {typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}");
        return 0;
    }

    private static int PrintHelp()
    {
        Help.PrintMain();
        return 0;
    }
}
