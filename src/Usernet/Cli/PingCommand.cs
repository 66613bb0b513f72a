using System.Globalization;
using System.Text;
using System.Text.Json;
using Usernet.Control;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet ping ADDRESS-OR-NAME [-c N]</c>: pings a guest, or an address behind one
/// (network.guestRoutes), from the gateway through the stack, which the host itself cannot.
/// Exits 0 when a reply came, 1 when none did.
/// </summary>
internal static class PingCommand
{
    public const string Usage = "usage: usernet ping ADDRESS-OR-NAME [-c COUNT]  [--instance NAME]";

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--count", "N", $"how many echo requests, one a second (default 3, at most {PingRoutes.MaxCount})", alias: "-c")
            .Option("--instance", "NAME", "the instance to ping through (default: the only one running)")
            .Flag("--help", "show this help", alias: "-h")
            .Parse(args);
        if (line.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        if (line.Positional.Count != 1)
        {
            throw new UsageException(Usage);
        }
        string query = $"?target={Uri.EscapeDataString(line.Positional[0])}"
            + (line.Value("--count") is { } count ? $"&count={Uri.EscapeDataString(count)}" : "");
        bool answered = false;
        int code = ControlCli.Print(InstanceNameOption.Read(line), "POST", PingRoutes.Path + query, null, body => Format(body, out answered));
        return code == 0 && !answered ? 1 : code;
    }

    /// <summary>As ping(8) prints it: a line a reply, then the summary.</summary>
    private static string Format(string body, out bool answered)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        string address = root.GetProperty("address").GetString()!;
        int transmitted = root.GetProperty("transmitted").GetInt32();
        int received = root.GetProperty("received").GetInt32();
        var text = new StringBuilder();
        foreach (var reply in root.GetProperty("replies").EnumerateArray())
        {
            text.Append(CultureInfo.InvariantCulture,
                $"reply from {address}: icmp_seq={reply.GetProperty("sequence").GetInt32()} time={reply.GetProperty("milliseconds").GetDouble():0.###} ms\n");
        }
        int loss = transmitted == 0 ? 100 : (transmitted - received) * 100 / transmitted;
        text.Append(CultureInfo.InvariantCulture, $"--- {root.GetProperty("target").GetString()} ping statistics ---\n");
        text.Append(CultureInfo.InvariantCulture, $"{transmitted} packets transmitted, {received} received, {loss}% packet loss\n");
        answered = received > 0;
        return text.ToString();
    }
}
