using System.Text.Json;

namespace Usernet.Services.Docker;

/// <summary>
/// One line of the daemon's event stream, as much as Usernet reads of it:
/// <c>{"Type":"container","Action":"start","Actor":{"ID":"..."}}</c>. For a network's
/// <c>connect</c> and <c>disconnect</c> the actor is the network (the container is an attribute).
/// </summary>
internal readonly record struct DockerEvent(string Type, string Action, string ActorId)
{
    /// <summary>Reads a line; false for an empty line, one that does not parse, or one without a type, action or actor.</summary>
    public static bool TryParse(string line, out DockerEvent parsed)
    {
        parsed = default;
        if (line.Length == 0)
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("Type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("Action", out var action) || action.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("Actor", out var actor) || actor.ValueKind != JsonValueKind.Object
                || !actor.TryGetProperty("ID", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() is not { Length: > 0 } actorId)
            {
                return false;
            }
            parsed = new DockerEvent(type.GetString()!, action.GetString()!, actorId);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
