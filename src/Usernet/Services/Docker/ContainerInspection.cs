using System.Globalization;
using System.Text.Json;

namespace Usernet.Services.Docker;

/// <summary>What Usernet reads of <c>GET /containers/{id}/json</c>: who the container is, whether it runs, and its ports.</summary>
internal sealed class ContainerInspection
{
    public required string Id { get; init; }

    /// <summary>The name without Docker's leading slash.</summary>
    public required string Name { get; init; }

    public bool Running { get; init; }

    /// <summary>HostConfig.NetworkMode: bridge, a network's name, host, none or container:ID.</summary>
    public string NetworkMode { get; init; } = "";

    public IReadOnlyList<ContainerPortBinding> Bindings { get; init; } = [];

    public IReadOnlyList<ContainerReportedPort> Reported { get; init; } = [];

    /// <summary>
    /// Whether the container's own network namespace is where its bindings go: not so on the
    /// host's network (Docker ignores the bindings there), with none, or in another container's.
    /// </summary>
    public bool PublishesPorts =>
        NetworkMode != "host" && NetworkMode != "none" && !NetworkMode.StartsWith("container:", StringComparison.Ordinal);

    /// <summary>Reads the daemon's answer; throws <see cref="FormatException"/> when it is not what the API documents.</summary>
    public static ContainerInspection Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var document = JsonDocument.Parse(json.ToArray());
            using (document)
            {
                var root = document.RootElement;
                string id = root.GetProperty("Id").GetString() ?? throw new FormatException("the container has no Id");
                string name = root.TryGetProperty("Name", out var n) && n.GetString() is { } text ? text.TrimStart('/') : id[..Math.Min(12, id.Length)];
                bool running = root.TryGetProperty("State", out var state) && state.ValueKind == JsonValueKind.Object
                    && state.TryGetProperty("Running", out var r) && r.ValueKind == JsonValueKind.True;
                var bindings = new List<ContainerPortBinding>();
                string mode = "";
                if (root.TryGetProperty("HostConfig", out var host) && host.ValueKind == JsonValueKind.Object)
                {
                    mode = host.TryGetProperty("NetworkMode", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                    foreach (var (port, protocol, entry) in PortMap(host, "PortBindings"))
                    {
                        var (first, last) = ParseHostPorts(entry);
                        bindings.Add(new ContainerPortBinding(port, protocol, HostIp(entry), first, last));
                    }
                    // -P: every exposed port without a binding of its own gets one the daemon picks, on every address.
                    if (host.TryGetProperty("PublishAllPorts", out var all) && all.ValueKind == JsonValueKind.True
                        && root.TryGetProperty("Config", out var config) && config.ValueKind == JsonValueKind.Object
                        && config.TryGetProperty("ExposedPorts", out var exposed) && exposed.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var property in exposed.EnumerateObject())
                        {
                            var (port, protocol) = ParseKey(property.Name);
                            if (!bindings.Any(b => b.ContainerPort == port && b.Protocol == protocol))
                            {
                                bindings.Add(new ContainerPortBinding(port, protocol, "", 0, 0));
                            }
                        }
                    }
                }
                var reported = new List<ContainerReportedPort>();
                if (root.TryGetProperty("NetworkSettings", out var network) && network.ValueKind == JsonValueKind.Object)
                {
                    foreach (var (port, protocol, entry) in PortMap(network, "Ports"))
                    {
                        var (first, _) = ParseHostPorts(entry);
                        reported.Add(new ContainerReportedPort(port, protocol, HostIp(entry), first));
                    }
                }
                return new ContainerInspection { Id = id, Name = name, Running = running, NetworkMode = mode, Bindings = bindings, Reported = reported };
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"the daemon's description of the container does not parse: {e.Message}");
        }
    }

    /// <summary>The entries of a port map: <c>{"80/tcp": [{"HostIp": ..., "HostPort": ...}], "81/udp": null}</c>.</summary>
    private static IEnumerable<(int Port, string Protocol, JsonElement Entry)> PortMap(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var map) || map.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }
        foreach (var property in map.EnumerateObject())
        {
            var (port, protocol) = ParseKey(property.Name);
            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var entry in property.Value.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object)
                {
                    yield return (port, protocol, entry);
                }
            }
        }
    }

    /// <summary>A port map's key: "80/tcp", "53/udp", or "80" (TCP).</summary>
    private static (int Port, string Protocol) ParseKey(string key)
    {
        int slash = key.IndexOf('/');
        string protocol = slash < 0 ? "tcp" : key[(slash + 1)..].ToLowerInvariant();
        return int.TryParse(slash < 0 ? key : key[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535
            ? (port, protocol)
            : throw new FormatException($"'{key}' is not a container port");
    }

    private static string HostIp(JsonElement entry) =>
        entry.TryGetProperty("HostIp", out var ip) && ip.ValueKind == JsonValueKind.String ? ip.GetString()! : "";

    /// <summary>"8080", a range "8000-8010", or "" and "0" for one the daemon picks (0, 0).</summary>
    private static (int First, int Last) ParseHostPorts(JsonElement entry)
    {
        string text = entry.TryGetProperty("HostPort", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
        if (text.Length == 0)
        {
            return (0, 0);
        }
        int dash = text.IndexOf('-');
        int first = ParsePort(dash < 0 ? text : text[..dash]);
        int last = dash < 0 ? first : ParsePort(text[(dash + 1)..]);
        return last < first ? throw new FormatException($"host port range '{text}' runs backwards") : (first, last);
    }

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 0 and <= 65535
            ? port
            : throw new FormatException($"'{text}' is not a host port");
}
