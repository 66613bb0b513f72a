namespace Usernet.Services.Docker;

/// <summary>
/// Which requests of the Docker Engine API concern published ports, routes into the guest or
/// containers' names, or may turn a connection into a raw stream. Paths may carry a version prefix (<c>/v1.41/containers/...</c>) and a
/// query; the container is named by id, short id or name, as the client wrote it.
/// </summary>
internal readonly record struct DockerApiRoute(DockerApiAction Action, string? Container = null)
{
    public static readonly DockerApiRoute Relay = new(DockerApiAction.Relay);

    /// <summary>The route of a request; <paramref name="upgrade"/> says it asks for Connection: Upgrade.</summary>
    public static DockerApiRoute Of(string method, string target, bool upgrade)
    {
        string[] segments = Segments(target);
        var route = Classify(method, segments);
        return route.Action == DockerApiAction.Relay && upgrade ? new DockerApiRoute(DockerApiAction.Hijack) : route;
    }

    private static DockerApiRoute Classify(string method, string[] segments)
    {
        switch (segments)
        {
            case ["containers", var id, var verb] when method == "POST" && IsName(id):
                return verb switch
                {
                    "start" => new DockerApiRoute(DockerApiAction.Start, id),
                    "stop" or "kill" or "restart" or "rename" => new DockerApiRoute(DockerApiAction.StateChange, id),
                    "attach" => new DockerApiRoute(DockerApiAction.Hijack, id),
                    _ => Relay,
                };
            case ["containers", var id] when method == "DELETE" && IsName(id):
                return new DockerApiRoute(DockerApiAction.StateChange, id);
            case ["containers", var id, "attach", "ws"] when IsName(id):
                return new DockerApiRoute(DockerApiAction.Hijack, id);
            case ["networks", "create" or "prune"] when method == "POST":
            case ["networks", var network] when method == "DELETE" && IsName(network):
            case ["networks", var target, "connect" or "disconnect"] when method == "POST" && IsName(target):
                return new DockerApiRoute(DockerApiAction.NetworkChange);
            case ["exec", _, "start"] when method == "POST":
                return new DockerApiRoute(DockerApiAction.Hijack);
            default:
                return Relay;
        }
    }

    /// <summary>The path's segments, without the query and the optional <c>/vN.NN</c> prefix.</summary>
    private static string[] Segments(string target)
    {
        int query = target.IndexOf('?');
        string path = query < 0 ? target : target[..query];
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length > 0 && IsVersion(segments[0]) ? segments[1..] : segments;
    }

    /// <summary><c>v1.41</c>, <c>v1</c>: as Docker's router matches <c>/v{version:[0-9.]+}</c>.</summary>
    private static bool IsVersion(string segment) =>
        segment.Length > 1 && segment[0] == 'v' && segment.AsSpan(1).IndexOfAnyExcept("0123456789.") < 0;

    /// <summary>
    /// A container id or name as Docker allows them (<c>[a-zA-Z0-9][a-zA-Z0-9_.-]*</c>), so that
    /// it can be put in a request of our own as it is. Anything else is left for the daemon to refuse.
    /// </summary>
    private static bool IsName(string segment) =>
        segment.Length is > 0 and <= 256 && char.IsAsciiLetterOrDigit(segment[0])
        && segment.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") < 0;
}
