using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Services.Docker;

/// <summary>
/// What Usernet reads of a running container in <c>GET /containers/json</c>: the names it is
/// known by from the host (its name, and its compose service) and its addresses on its networks.
/// </summary>
internal sealed record ContainerAddresses(string Id, IReadOnlyList<string> Names, IReadOnlyList<IpAddress> Addresses)
{
    /// <summary>The label Docker Compose gives each container of a service: the service's name.</summary>
    public const string ComposeServiceLabel = "com.docker.compose.service";

    /// <summary>Reads the daemon's list; throws <see cref="FormatException"/> when it is not what the API documents.</summary>
    public static List<ContainerAddresses> ParseList(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var containers = new List<ContainerAddresses>();
            foreach (var container in document.RootElement.EnumerateArray())
            {
                string id = container.GetProperty("Id").GetString() ?? throw new FormatException("a container has no Id");
                var names = new List<string>();
                if (container.TryGetProperty("Names", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var name in list.EnumerateArray())
                    {
                        // "/web"; a legacy link adds "/other/alias", a name only within the container that links.
                        if (name.GetString() is ['/', .. var rest] && rest.Length > 0 && !rest.Contains('/'))
                        {
                            names.Add(rest);
                        }
                    }
                }
                if (container.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                    && labels.TryGetProperty(ComposeServiceLabel, out var service) && service.ValueKind == JsonValueKind.String
                    && service.GetString() is { Length: > 0 } serviceName)
                {
                    names.Add(serviceName);
                }
                containers.Add(new ContainerAddresses(id, names, AddressesOf(container)));
            }
            return containers;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException(e.Message);
        }
    }

    /// <summary>NetworkSettings.Networks.*.IPAddress and GlobalIPv6Address, those that parse.</summary>
    private static List<IpAddress> AddressesOf(JsonElement container)
    {
        var addresses = new List<IpAddress>();
        if (!container.TryGetProperty("NetworkSettings", out var settings) || settings.ValueKind != JsonValueKind.Object
            || !settings.TryGetProperty("Networks", out var networks) || networks.ValueKind != JsonValueKind.Object)
        {
            return addresses;
        }
        foreach (var network in networks.EnumerateObject())
        {
            if (network.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            foreach (string field in new[] { "IPAddress", "GlobalIPv6Address" })
            {
                if (network.Value.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
                    && IpAddress.TryParse(value.GetString()!, out var address) && !address.IsUnspecified)
                {
                    addresses.Add(address);
                }
            }
        }
        return addresses;
    }
}
