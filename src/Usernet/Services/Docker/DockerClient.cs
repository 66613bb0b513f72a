using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Usernet.Http;

namespace Usernet.Services.Docker;

/// <summary>
/// Usernet's own requests to the guest's Docker daemon, each on a connection of its own to the
/// daemon's socket: never on a client's connection, whose bytes the proxy passes on untouched.
/// Paths carry no API version, so the daemon answers in its own. Every failure is a
/// <see cref="DockerDaemonException"/>.
/// </summary>
internal sealed class DockerClient(string socketPath)
{
    /// <summary>What Docker's own client sends as Host over a unix socket; the daemon does not look at it.</summary>
    private const string Host = "docker";

    /// <summary>The container actions after which the ports of a container may have changed.</summary>
    private static readonly HashSet<string> PortActions = ["start", "restart", "unpause", "die", "stop", "kill", "destroy", "rename"];

    public string SocketPath => socketPath;

    /// <summary>Whether the daemon answers <c>GET /_ping</c>.</summary>
    public async Task<bool> PingAsync(CancellationToken cancel)
    {
        try
        {
            var (status, _) = await UnixHttpClient.SendAsync(socketPath, "GET", "/_ping", Host, cancel: cancel).ConfigureAwait(false);
            return status == 200;
        }
        catch (Exception e) when (e is SocketException or IOException or HttpFormatException)
        {
            return false;
        }
    }

    /// <summary>The container named <paramref name="container"/> (id, short id or name), or null when there is none.</summary>
    public async Task<ContainerInspection?> InspectAsync(string container, CancellationToken cancel)
    {
        var (status, body) = await SendAsync("GET", $"/containers/{container}/json", cancel).ConfigureAwait(false);
        if (status == 404)
        {
            return null;
        }
        Check(status, body, $"inspecting container {container}");
        try
        {
            return ContainerInspection.Parse(body);
        }
        catch (FormatException e)
        {
            throw new DockerDaemonException(e.Message, e);
        }
    }

    /// <summary>The ids of the running containers (<c>GET /containers/json</c>).</summary>
    public async Task<List<string>> RunningAsync(CancellationToken cancel) =>
        (await ContainerAddressesAsync(cancel).ConfigureAwait(false)).Select(c => c.Id).ToList();

    /// <summary>Stops a container, killing it after <paramref name="seconds"/>.</summary>
    public async Task StopAsync(string id, int seconds, CancellationToken cancel)
    {
        var (status, body) = await SendAsync("POST", $"/containers/{id}/stop?t={seconds}", cancel).ConfigureAwait(false);
        if (status != 304)
        {
            Check(status, body, $"stopping container {id}");
        }
    }

    /// <summary>
    /// Follows the daemon's container and network events until the stream ends (the daemon
    /// stopped) or <paramref name="cancel"/>. <paramref name="onSubscribed"/> runs once the daemon
    /// has taken the subscription, so that a look at its state after it misses nothing; then
    /// <paramref name="onEvent"/> gets each event that parses.
    /// </summary>
    public async Task FollowEventsAsync(Action onSubscribed, Action<DockerEvent> onEvent, CancellationToken cancel)
    {
        string filters = Uri.EscapeDataString("{\"type\":[\"container\",\"network\"]}");
        Socket socket;
        HttpReader reader;
        HttpResponseHead head;
        try
        {
            (socket, reader, head) = await UnixHttpClient.OpenAsync(socketPath, "GET", "/events?filters=" + filters, Host, cancel: cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or HttpFormatException)
        {
            throw new DockerDaemonException($"cannot follow the daemon's events: {e.Message}", e);
        }
        using var _ = socket;
        if (head.Status != 200)
        {
            throw new DockerDaemonException($"the daemon refused to send its events (HTTP {head.Status})");
        }
        onSubscribed();
        var lines = new LineSink(line =>
        {
            if (DockerEvent.TryParse(line, out var parsed))
            {
                onEvent(parsed);
            }
        });
        try
        {
            if (HttpHeadParser.IsChunked(head.Headers))
            {
                await reader.CopyChunkedAsync(lines, cancel, decode: true).ConfigureAwait(false);
            }
            else
            {
                await reader.CopyToEndAsync(lines, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or HttpFormatException)
        {
            throw new DockerDaemonException($"the daemon's event stream broke: {e.Message}", e);
        }
    }

    /// <summary>The container of an event line that may change its ports; null for any other event or a line that does not parse.</summary>
    internal static string? ContainerOf(string line) => DockerEvent.TryParse(line, out var parsed) ? ContainerOf(parsed) : null;

    /// <summary>The container of an event that may change its ports; null for any other.</summary>
    internal static string? ContainerOf(DockerEvent e) =>
        e.Type == "container" && PortActions.Contains(e.Action) ? e.ActorId : null;

    /// <summary>The daemon's networks (<c>GET /networks</c>).</summary>
    public async Task<List<DockerNetwork>> NetworksAsync(CancellationToken cancel)
    {
        var (status, body) = await SendAsync("GET", "/networks", cancel).ConfigureAwait(false);
        Check(status, body, "listing networks");
        return Parsed(() => DockerNetwork.ParseList(body), "networks");
    }

    /// <summary>The running containers with their names and addresses (<c>GET /containers/json</c>).</summary>
    public async Task<List<ContainerAddresses>> ContainerAddressesAsync(CancellationToken cancel)
    {
        var (status, body) = await SendAsync("GET", "/containers/json", cancel).ConfigureAwait(false);
        Check(status, body, "listing containers");
        return Parsed(() => ContainerAddresses.ParseList(body), "containers");
    }

    private static T Parsed<T>(Func<T> parse, string what)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new DockerDaemonException($"the daemon's list of {what} does not parse: {e.Message}", e);
        }
    }

    private async Task<(int Status, byte[] Body)> SendAsync(string method, string target, CancellationToken cancel)
    {
        try
        {
            return await UnixHttpClient.SendAsync(socketPath, method, target, Host, cancel: cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or HttpFormatException)
        {
            throw new DockerDaemonException($"the Docker daemon at {socketPath} did not answer {method} {target}: {e.Message}", e,
                unreachable: e is SocketException);
        }
    }

    private static void Check(int status, byte[] body, string what)
    {
        if (status is < 200 or >= 300)
        {
            throw new DockerDaemonException($"{what}: HTTP {status} {MessageOf(body)}".TrimEnd());
        }
    }

    /// <summary>The "message" of a Docker error body, or the body itself.</summary>
    private static string MessageOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message", out var message))
            {
                return message.GetString() ?? "";
            }
        }
        catch (JsonException)
        {
        }
        return Encoding.UTF8.GetString(body).Trim();
    }
}
