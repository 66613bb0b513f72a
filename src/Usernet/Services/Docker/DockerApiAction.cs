namespace Usernet.Services.Docker;

/// <summary>What the Docker API proxy does with a request besides passing it on.</summary>
internal enum DockerApiAction
{
    /// <summary>Nothing: relayed as it is.</summary>
    Relay,

    /// <summary><c>POST /containers/{id}/start</c>: the container's fixed ports are bound before it goes on, the others after.</summary>
    Start,

    /// <summary>Stop, kill, restart, rename or remove: the container's ports are looked at again before the answer goes back.</summary>
    StateChange,

    /// <summary>A network created, removed or pruned, or a container connected to or disconnected from one: routes and names are read again before the answer goes back.</summary>
    NetworkChange,

    /// <summary>Attach or exec start: the connection may turn into a raw stream (HTTP 101, or Docker's hijack).</summary>
    Hijack,
}
