using Usernet.Control;
using Usernet.Http;

namespace Usernet.Cli;

/// <summary><c>usernet stats</c>: the counters of a running instance, as JSON or in Prometheus' text format.</summary>
internal static class StatsCommand
{
    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance to ask (default: the only one running)")
            .Flag("--prometheus", "print the counters as GET /metrics serves them (Prometheus' text format)")
            .Parse(args);
        return ControlCli.Print(InstanceNameOption.Read(line), "GET", line.Has("--prometheus") ? "/metrics" : "/stats");
    }
}

/// <summary>Runs one control API request for a CLI command and prints the answer.</summary>
internal static class ControlCli
{
    /// <summary><paramref name="format"/> turns a successful body into what is printed (by default the JSON itself).</summary>
    public static int Print(string? instance, string method, string path, string? body = null, Func<string, string>? format = null)
    {
        if (SocketOf(instance) is not { } socket)
        {
            return 1;
        }
        int status;
        string response;
        try
        {
            (status, response) = ControlClient.SendAsync(socket, method, path, body).GetAwaiter().GetResult();
        }
        catch (HttpFormatException e)
        {
            Console.Error.WriteLine($"usernet: the instance's answer is not well-formed HTTP: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"usernet: the instance at {socket} did not answer: {e.Message}");
            return 1;
        }
        if (status >= 400)
        {
            Console.Error.WriteLine($"usernet: {ExtractError(response) ?? response.Trim()}");
            return 1;
        }
        Console.Write(format is null ? response : format(response));
        return 0;
    }

    /// <summary>The control socket of <paramref name="instance"/> (or of the only one running); null, said why, when there is none.</summary>
    public static string? SocketOf(string? instance)
    {
        try
        {
            return InstanceDirectory.Resolve(instance);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"usernet: {e.Message}");
            return null;
        }
    }

    internal static string? ExtractError(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
