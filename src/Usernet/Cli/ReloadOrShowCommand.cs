namespace Usernet.Cli;

/// <summary>
/// <c>usernet COMMAND reload|show [--instance NAME] [--json]</c> over the control API's
/// <c>POST ROUTE/reload</c> and <c>GET ROUTE</c>: the proxy's and the egress policy's.
/// </summary>
internal static class ReloadOrShowCommand
{
    public static int Execute(IReadOnlyList<string> args, string command, string route, Func<string, string> reloaded, Func<string, string> shown)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance (default: the only one running)")
            .Flag("--json", "print JSON")
            .Parse(args);
        string? instance = InstanceNameOption.Read(line);
        bool json = line.Has("--json");
        return line.Positional switch
        {
            ["reload"] => ControlCli.Print(instance, "POST", route + "/reload", null, json ? null : reloaded),
            ["show"] => ControlCli.Print(instance, "GET", route, null, json ? null : shown),
            _ => throw new UsageException($"usage: usernet {command} reload | usernet {command} show   [--instance NAME] [--json]"),
        };
    }
}
