using System.Text;
using System.Text.Json;
using Usernet.Control;

namespace Usernet.Cli;

/// <summary><c>usernet port add|rm|ls</c>: published ports of a running instance.</summary>
internal static class PortCommand
{
    public const string Usage = "usage: usernet port add SPEC | rm SPEC | ls [--json]  [--instance NAME]";

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance to change (default: the only one running)")
            .Flag("--json", "print JSON")
            .Flag("--help", "show this help", alias: "-h")
            .Parse(args);
        if (line.Has("--help"))
        {
            Console.WriteLine(Usage);
            Console.WriteLine("SPEC is Docker's -p syntax: [HOST_IP:][HOST_PORT:]GUEST_PORT[/tcp|/udp], ports may be ranges.");
            return 0;
        }
        string? instance = InstanceNameOption.Read(line);
        var words = line.Positional;
        if (words.Count == 0)
        {
            throw new UsageException(Usage);
        }
        switch (words[0])
        {
            case "add" when words.Count == 2:
                RunCommand.ValidateSpec(words[1]);
                return ControlCli.Print(instance, "POST", "/ports", JsonText.Build(w => w.WriteString("spec", words[1])),
                    line.Has("--json") ? null : Describe);
            case "rm" when words.Count == 2:
                RunCommand.ValidateSpec(words[1]);
                return ControlCli.Print(instance, "DELETE", "/ports?spec=" + Uri.EscapeDataString(words[1]), null,
                    line.Has("--json") ? null : body => "");
            case "ls" when words.Count == 1:
                return ControlCli.Print(instance, "GET", "/ports", null, line.Has("--json") ? null : Table);
            default:
                throw new UsageException(Usage);
        }
    }

    private static string Describe(string body)
    {
        var text = new StringBuilder();
        using var document = JsonDocument.Parse(body);
        foreach (var publish in document.RootElement.EnumerateArray())
        {
            string hosts = string.Join(", ", publish.GetProperty("host").EnumerateArray().Select(h => h.GetString()));
            text.Append($"published {hosts} -> {publish.GetProperty("guest").GetString()} ({publish.GetProperty("spec").GetString()})\n");
        }
        return text.ToString();
    }

    private static string Table(string body)
    {
        var text = new StringBuilder($"{"PUBLISHED",-30} {"GUEST",-22} {"PROTO",-5} {"CONNECTIONS",11} {"ACTIVE",6} {"TO GUEST",12} {"FROM GUEST",12} CONTAINER\n");
        using var document = JsonDocument.Parse(body);
        foreach (var publish in document.RootElement.EnumerateArray())
        {
            string hosts = string.Join(",", publish.GetProperty("host").EnumerateArray().Select(h => h.GetString()));
            string container = publish.TryGetProperty("container", out var name) ? name.GetString() ?? "" : "";
            text.Append($"{hosts,-30} {publish.GetProperty("guest").GetString(),-22} {publish.GetProperty("protocol").GetString(),-5} " +
                $"{publish.GetProperty("connections").GetInt64(),11} {publish.GetProperty("activeConnections").GetInt64(),6} " +
                $"{publish.GetProperty("bytesToGuest").GetInt64(),12} {publish.GetProperty("bytesFromGuest").GetInt64(),12} {container}".TrimEnd() + "\n");
        }
        return text.ToString();
    }
}
