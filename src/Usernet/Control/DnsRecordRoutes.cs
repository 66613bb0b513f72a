using System.Text.Json;
using Usernet.Config;
using Usernet.Platform;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Control;

/// <summary>
/// The control API of the DNS server's own names: <c>GET /dns/records</c> lists them,
/// <c>POST /dns/records</c> with <c>{"name": ..., "address": ...}</c> adds an address,
/// <c>DELETE /dns/records?name=...[&amp;address=...]</c> removes one or all of a name's. The
/// records live on the loop thread; each request changes them there.
/// </summary>
internal static class DnsRecordRoutes
{
    public const string Path = "/dns/records";

    public static void Map(ControlServer control, EventLoop loop, DnsLocalRecords records)
    {
        control.Map("GET", Path, async _ => ControlResponse.Json(await loop.InvokeAsync(_ => ListJson(records.List()))));
        control.Map("POST", Path, async request =>
        {
            var (name, address) = ParseBody(request.Body);
            var change = await loop.InvokeAsync(_ => records.Add(name, address));
            return change switch
            {
                DnsRecordChange.BuiltIn => throw new ControlRequestException(400, $"{DomainName.Normalize(name)} is a built-in name and cannot be changed"),
                _ => ControlResponse.Json(RecordJson(DomainName.Normalize(name), address, change), change == DnsRecordChange.Added ? 201 : 200),
            };
        });
        control.Map("DELETE", Path, async request =>
        {
            string name = request.Query.TryGetValue("name", out var given) ? CheckName(given) : throw new ControlRequestException(400, "name is missing");
            IpAddress? address = request.Query.TryGetValue("address", out var text) ? CheckAddress(text) : null;
            var change = await loop.InvokeAsync(_ => records.Remove(name, address));
            return change switch
            {
                DnsRecordChange.Removed => ControlResponse.Ok(),
                DnsRecordChange.BuiltIn => throw new ControlRequestException(400, $"{DomainName.Normalize(name)} is a built-in name and cannot be changed"),
                _ => throw new ControlRequestException(404, address is null
                    ? $"no record for {DomainName.Normalize(name)}"
                    : $"{DomainName.Normalize(name)} has no address {address}"),
            };
        });
    }

    private static (string Name, IpAddress Address) ParseBody(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("address", out var address) || address.ValueKind != JsonValueKind.String)
            {
                throw new ControlRequestException(400, "expected {\"name\": \"NAME\", \"address\": \"ADDRESS\"}");
            }
            return (CheckName(name.GetString()!), CheckAddress(address.GetString()!));
        }
        catch (JsonException e)
        {
            throw new ControlRequestException(400, $"the body is not JSON: {e.Message}");
        }
    }

    private static string CheckName(string name) =>
        DomainName.IsValid(name) ? name : throw new ControlRequestException(400, $"'{name}' is not a valid domain name");

    private static IpAddress CheckAddress(string text) =>
        IpAddress.TryParse(text, out var address) ? address : throw new ControlRequestException(400, $"'{text}' is not an IP address");

    private static string RecordJson(string name, IpAddress address, DnsRecordChange change) => JsonText.Build(w =>
    {
        w.WriteString("name", name);
        w.WriteString("address", address.ToString());
        w.WriteString("type", address.IsV4 ? "A" : "AAAA");
        w.WriteBoolean("added", change == DnsRecordChange.Added);
    });

    private static string ListJson(IReadOnlyList<DnsLocalRecord> list) => JsonText.BuildArray(w =>
    {
        foreach (var record in list)
        {
            w.WriteStartObject();
            w.WriteString("name", record.Name);
            w.WriteString("address", record.Address.ToString());
            w.WriteString("type", record.Address.IsV4 ? "A" : "AAAA");
            w.WriteString("origin", record.Origin switch
            {
                DnsRecordOrigin.BuiltIn => "built-in",
                DnsRecordOrigin.Settings => "settings",
                _ => "api",
            });
            w.WriteEndObject();
        }
    });
}
