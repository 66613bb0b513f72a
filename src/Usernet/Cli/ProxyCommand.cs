using System.Text.Json;

namespace Usernet.Cli;

/// <summary><c>usernet proxy reload|show</c>: the upstream proxy policy of a running instance.</summary>
internal static class ProxyCommand
{
    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance (default: the only one running)")
            .Flag("--json", "print JSON")
            .Parse(args);
        string? instance = InstanceNameOption.Read(line);
        bool json = line.Has("--json");
        return line.Positional switch
        {
            ["reload"] => ControlCli.Print(instance, "POST", "/proxy/reload", null, json ? null : body => Field(body, "proxy") + "\n"),
            ["show"] => ControlCli.Print(instance, "GET", "/proxy", null, json ? null : body => Field(body, "summary") + "\n"),
            _ => throw new UsageException("usage: usernet proxy reload | usernet proxy show   [--instance NAME] [--json]"),
        };
    }

    private static string Field(string body, string name)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty(name, out var value) ? value.GetString() ?? "" : body;
    }
}
