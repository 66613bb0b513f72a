using System.Globalization;
using System.Text;
using System.Text.Json;
using Usernet.Control;
using Usernet.Http;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet flows [--follow] [--json]</c>: the flows of a running instance that ended, a line
/// each, as a table or as the flow log's JSON lines; with --follow, each as it ends until Ctrl-C.
/// </summary>
internal static class FlowsCommand
{
    private const string Usage = "usage: usernet flows [--follow] [--json] [--instance NAME]";

    private const string RowFormat = "{0,-8} {1,-4} {2,-22} {3,-22} {4,-24} {5,10} {6,10} {7,8} {8,-8} {9}";

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance to ask (default: the only one running)")
            .Flag("--follow", "print each flow as it ends, until interrupted", alias: "-f")
            .Flag("--json", "print the flow log's JSON lines")
            .Flag("--help", "show this help", alias: "-h")
            .Parse(args);
        if (line.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        if (line.Positional.Count != 0)
        {
            throw new UsageException(Usage);
        }
        bool json = line.Has("--json");
        string? instance = InstanceNameOption.Read(line);
        if (!line.Has("--follow"))
        {
            return ControlCli.Print(instance, "GET", "/flows", null, body => Render(body, json));
        }
        return Follow(instance, json);
    }

    private static int Follow(string? instance, bool json)
    {
        if (ControlCli.SocketOf(instance) is not { } socket)
        {
            return 1;
        }
        try
        {
            var (connection, reader, head) = UnixHttpClient.OpenAsync(socket, "GET", "/flows?follow=1", "usernet").GetAwaiter().GetResult();
            using var _ = connection;
            if (head.Status != 200)
            {
                Console.Error.WriteLine($"usernet: the instance answered {head.Status} {head.Reason}");
                return 1;
            }
            Console.Error.WriteLine("usernet: following the flows as they end (Ctrl-C to stop)");
            if (!json)
            {
                Console.WriteLine(Header());
            }
            while (true)
            {
                string text = reader.ReadLineAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                if (text.Length > 0)
                {
                    Console.WriteLine(json ? text : Row(text));
                }
            }
        }
        catch (HttpFormatException)
        {
            // The instance ended, and the stream with it.
            return 0;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"usernet: the instance at {socket} did not answer: {e.Message}");
            return 1;
        }
    }

    /// <summary>The lines of <c>GET /flows</c> as they are (--json), or as a table.</summary>
    internal static string Render(string body, bool json)
    {
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (json)
        {
            return string.Concat(lines.Select(l => l + "\n"));
        }
        var text = new StringBuilder(Header()).Append('\n');
        foreach (string line in lines)
        {
            text.Append(Row(line)).Append('\n');
        }
        return text.ToString();
    }

    private static string Header() =>
        string.Format(CultureInfo.InvariantCulture, RowFormat, "TIME", "PROTO", "SOURCE", "DESTINATION", "NAME", "FROM-GUEST", "TO-GUEST", "SECONDS", "END", "VERDICT");

    /// <summary>One flow log line as a row: the time of day it ended (or started), what went where, the bytes each way, and the egress verdict with its rule.</summary>
    internal static string Row(string line)
    {
        using var document = JsonDocument.Parse(line);
        var flow = document.RootElement;
        string Text(string name) => flow.TryGetProperty(name, out var value) ? value.ToString() : "";
        string time = Text("time");
        // A start line (log.flowStarts) has no counts yet: its row says "start" where an end's says how it ended.
        string end = flow.TryGetProperty("start", out var start) && start.ValueKind == JsonValueKind.True ? "start" : Text("end");
        return string.Format(CultureInfo.InvariantCulture, RowFormat,
            time.Length >= 19 ? time[11..19] : time, Text("proto"), Text("source"), Text("destination"), Text("name"),
            Text("bytesFromGuest"), Text("bytesToGuest"), Text("seconds"), end, $"{Text("verdict")} {Text("rule")}").TrimEnd();
    }
}
