namespace Usernet.Services.Docker;

/// <summary>
/// What the response side of a proxied connection must know of a request it has yet to answer,
/// in the order the requests came (HTTP/1.1 answers in order, RFC 9112 §9.3.2).
/// </summary>
internal sealed class PendingResponse
{
    /// <summary>A request that goes on to the daemon, whose answer is read in its turn.</summary>
    public PendingResponse(string method, DockerApiRoute route)
        : this(method, route, null, false)
    {
    }

    private PendingResponse(string method, DockerApiRoute route, byte[]? local, bool closeAfter)
    {
        Method = method;
        Route = route;
        Local = local;
        CloseAfter = closeAfter;
    }

    public string Method { get; }

    public DockerApiRoute Route { get; }

    /// <summary>An answer of the proxy's own, sent in this request's turn instead of the daemon's (which never saw it).</summary>
    public byte[]? Local { get; }

    /// <summary>The connection ends after the proxy's own answer (the request could not be read to its end).</summary>
    public bool CloseAfter { get; }

    /// <summary>For a start: what completes it once the daemon has answered.</summary>
    public StartInterception? Start { get; init; }

    /// <summary>For a state change: the container's full id, whose ports are looked at before the answer goes back.</summary>
    public string? ContainerId { get; init; }

    /// <summary>For a request that may turn the connection into a raw stream: whether it did, once the answer's head is read.</summary>
    public TaskCompletionSource<bool>? Upgraded { get; init; }

    public static PendingResponse Answered(byte[] response, bool closeAfter) => new("", DockerApiRoute.Relay, response, closeAfter);
}
