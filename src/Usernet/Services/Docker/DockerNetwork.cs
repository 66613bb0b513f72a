using System.Text.Json;

namespace Usernet.Services.Docker;

/// <summary>What Usernet reads of a network in <c>GET /networks</c>: its driver, whether it is internal, and its subnets.</summary>
internal sealed record DockerNetwork(string Id, string Name, string Driver, bool Internal, IReadOnlyList<string> Subnets)
{
    /// <summary>Reads the daemon's list; throws <see cref="FormatException"/> when it is not what the API documents.</summary>
    public static List<DockerNetwork> ParseList(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var networks = new List<DockerNetwork>();
            foreach (var network in document.RootElement.EnumerateArray())
            {
                var subnets = new List<string>();
                // IPAM.Config is null for a network without addresses (host, none) on some versions, [] on others.
                if (network.TryGetProperty("IPAM", out var ipam) && ipam.ValueKind == JsonValueKind.Object
                    && ipam.TryGetProperty("Config", out var configs) && configs.ValueKind == JsonValueKind.Array)
                {
                    foreach (var config in configs.EnumerateArray())
                    {
                        if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("Subnet", out var subnet)
                            && subnet.ValueKind == JsonValueKind.String && subnet.GetString() is { Length: > 0 } text)
                        {
                            subnets.Add(text);
                        }
                    }
                }
                networks.Add(new DockerNetwork(
                    network.GetProperty("Id").GetString() ?? throw new FormatException("a network has no Id"),
                    TextOf(network, "Name"),
                    TextOf(network, "Driver"),
                    network.TryGetProperty("Internal", out var isInternal) && isInternal.ValueKind == JsonValueKind.True,
                    subnets));
            }
            return networks;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException(e.Message);
        }
    }

    private static string TextOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
}
