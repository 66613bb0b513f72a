using System.Text;
using System.Text.Json;
using Usernet.Control;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet dns add NAME ADDRESS</c>, <c>usernet dns rm NAME [ADDRESS]</c> and
/// <c>usernet dns ls</c>: the DNS server's own names of a running instance, for example a VM's
/// container names. Changes last as long as the instance; dns.records in the settings are
/// there from the start.
/// </summary>
internal static class DnsCommand
{
    public const string Usage = "usage: usernet dns add NAME ADDRESS | rm NAME [ADDRESS] | ls [--json]  [--instance NAME]";

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = new CommandLine()
            .Option("--instance", "NAME", "the instance to change (default: the only one running)")
            .Flag("--json", "ls: print JSON")
            .Flag("--help", "show this help", alias: "-h")
            .Parse(args);
        var words = line.Positional;
        if (line.Has("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        string? instance = InstanceNameOption.Read(line);
        switch (words.Count > 0 ? words[0] : null)
        {
            case "add" when words.Count == 3:
            {
                string body = JsonText.Build(w =>
                {
                    w.WriteString("name", words[1]);
                    w.WriteString("address", words[2]);
                });
                return ControlCli.Print(instance, "POST", DnsRecordRoutes.Path, body, _ => "");
            }
            case "rm" when words.Count is 2 or 3:
            {
                string query = $"?name={Uri.EscapeDataString(words[1])}" + (words.Count == 3 ? $"&address={Uri.EscapeDataString(words[2])}" : "");
                return ControlCli.Print(instance, "DELETE", DnsRecordRoutes.Path + query, null, _ => "");
            }
            case "ls" when words.Count == 1:
                return ControlCli.Print(instance, "GET", DnsRecordRoutes.Path, null, line.Has("--json") ? null : Table);
            default:
                throw new UsageException(Usage);
        }
    }

    /// <summary>One line a record: name, type, address, origin.</summary>
    private static string Table(string json)
    {
        using var document = JsonDocument.Parse(json);
        var rows = document.RootElement.EnumerateArray()
            .Select(r => (Name: r.GetProperty("name").GetString()!, Type: r.GetProperty("type").GetString()!,
                Address: r.GetProperty("address").GetString()!, Origin: r.GetProperty("origin").GetString()!))
            .ToList();
        int width = rows.Count == 0 ? 4 : Math.Max(4, rows.Max(r => r.Name.Length));
        int addressWidth = rows.Count == 0 ? 7 : Math.Max(7, rows.Max(r => r.Address.Length));
        var text = new StringBuilder();
        text.AppendLine($"{"NAME".PadRight(width)}  TYPE  {"ADDRESS".PadRight(addressWidth)}  ORIGIN");
        foreach (var row in rows)
        {
            text.AppendLine($"{row.Name.PadRight(width)}  {row.Type,-4}  {row.Address.PadRight(addressWidth)}  {row.Origin}");
        }
        return text.ToString();
    }
}
