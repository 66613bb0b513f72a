using System.Text.Json;
using Usernet.Platform;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Control;

/// <summary>
/// The control API of published ports. Our own: <c>GET /ports</c> lists them with counters,
/// <c>POST /ports</c> with <c>{"spec": "8080:80"}</c> publishes, <c>DELETE /ports?spec=8080:80</c>
/// unpublishes. And gvisor-tap-vsock's, so that tools written for gvproxy can drive Usernet:
/// <c>POST /services/forwarder/expose</c> and <c>/unexpose</c> with
/// <c>{"local": ":8080", "remote": "192.168.65.3:80", "protocol": "tcp"}</c>, and
/// <c>GET /services/forwarder/all</c>. Changes run on the loop thread.
/// </summary>
internal static class PortRoutes
{
    public static void Map(ControlServer control, EventLoop loop, PortPublisher publisher)
    {
        control.Map("GET", "/ports", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => ListJson(publisher.Publishes))));
        control.Map("POST", "/ports", async request =>
        {
            var spec = ParseSpec(ReadString(request.Body, "spec"));
            var added = await loop.InvokeAsync(_ => Publish(publisher, spec));
            return ControlResponse.Json(ListJson(added), 201);
        });
        control.Map("DELETE", "/ports", async request =>
        {
            string text = request.Query.TryGetValue("spec", out var given) ? given : ReadString(request.Body, "spec");
            var spec = ParseSpec(text);
            int removed = await loop.InvokeAsync(_ => publisher.Remove(spec));
            return removed == 0
                ? throw new ControlRequestException(404, $"nothing is published as {spec}")
                : ControlResponse.Json(JsonText.Build(w => w.WriteNumber("removed", removed)));
        });

        control.Map("POST", "/services/forwarder/expose", async request =>
        {
            var spec = FromGvproxy(request.Body, needRemote: true);
            await loop.InvokeAsync(_ => Publish(publisher, spec));
            return ControlResponse.Ok();
        });
        control.Map("POST", "/services/forwarder/unexpose", async request =>
        {
            var spec = FromGvproxy(request.Body, needRemote: false);
            int removed = await loop.InvokeAsync(_ => publisher.Remove(spec));
            return removed == 0 ? throw new ControlRequestException(404, $"nothing is exposed as {spec}") : ControlResponse.Ok();
        });
        control.Map("GET", "/services/forwarder/all", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => GvproxyListJson(publisher.Publishes))));
    }

    private static List<Publish> Publish(PortPublisher publisher, PublishSpec spec)
    {
        try
        {
            return publisher.Add(spec);
        }
        catch (PublishException e)
        {
            throw new ControlRequestException(409, e.Message);
        }
    }

    private static PublishSpec ParseSpec(string text)
    {
        try
        {
            return PublishSpec.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ControlRequestException(400, e.Message);
        }
    }

    /// <summary>gvproxy's form: local "[host]:port" (host empty for every interface), remote "guest:port".</summary>
    internal static PublishSpec FromGvproxy(string body, bool needRemote)
    {
        string local = ReadString(body, "local");
        string protocol = TryReadString(body, "protocol") ?? "tcp";
        if (protocol is not ("tcp" or "udp"))
        {
            throw new ControlRequestException(400, $"protocol '{protocol}' is not tcp or udp");
        }
        if (!HostPort.TryParse(local, HostPortOptions.AddressOnly | HostPortOptions.EmptyHost, out var localEndpoint, out string? localError))
        {
            throw new ControlRequestException(400, $"local '{local}' is not [ADDRESS]:PORT: {localError}");
        }
        var kind = protocol == "udp" ? PublishProtocol.Udp : PublishProtocol.Tcp;
        ushort hostPort = localEndpoint.Port;
        if (!needRemote)
        {
            return new PublishSpec(localEndpoint.Address, hostPort, hostPort, 1, 65535, kind);
        }
        string remote = ReadString(body, "remote");
        if (!HostPort.TryParse(remote, HostPortOptions.AddressOnly, out var guest, out string? remoteError))
        {
            throw new ControlRequestException(400, $"remote '{remote}' is not ADDRESS:PORT: {remoteError}");
        }
        return new PublishSpec(localEndpoint.Address, hostPort, hostPort, guest.Port, guest.Port, kind, guest.Address);
    }

    private static string ReadString(string body, string name) =>
        TryReadString(body, name) ?? throw new ControlRequestException(400, $"the body needs \"{name}\"");

    private static string? TryReadString(string body, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new ControlRequestException(400, $"malformed JSON: {e.Message}");
        }
    }

    private static string ListJson(IEnumerable<Publish> publishes) => JsonText.BuildArray(w =>
    {
        foreach (var publish in publishes)
        {
            w.WriteStartObject();
            w.WriteString("spec", publish.Spec.ToString());
            w.WriteStartArray("host");
            foreach (var endpoint in publish.HostEndpoints)
            {
                w.WriteStringValue(endpoint.ToString());
            }
            w.WriteEndArray();
            w.WriteString("guest", publish.Guest.ToString());
            w.WriteString("protocol", publish.Spec.Protocol == PublishProtocol.Tcp ? "tcp" : "udp");
            if (publish.Owner is { } owner)
            {
                w.WriteString("container", owner);
            }
            publish.Counters.WriteJson(w);
            w.WriteEndObject();
        }
    });

    private static string GvproxyListJson(IEnumerable<Publish> publishes) => JsonText.BuildArray(w =>
    {
        foreach (var publish in publishes)
        {
            foreach (var endpoint in publish.HostEndpoints)
            {
                w.WriteStartObject();
                w.WriteString("local", endpoint.ToString());
                w.WriteString("remote", publish.Guest.ToString());
                w.WriteString("protocol", publish.Spec.Protocol == PublishProtocol.Tcp ? "tcp" : "udp");
                w.WriteEndObject();
            }
        }
    });
}
