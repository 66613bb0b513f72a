using System.Text.Json;

namespace Usernet.Cli;

/// <summary><c>usernet proxy reload|show</c>: the upstream proxy policy of a running instance.</summary>
internal static class ProxyCommand
{
    public static int Execute(IReadOnlyList<string> args) =>
        ReloadOrShowCommand.Execute(args, "proxy", "/proxy", body => Field(body, "proxy") + "\n", body => Field(body, "summary") + "\n");

    private static string Field(string body, string name)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty(name, out var value) ? value.GetString() ?? "" : body;
    }
}
