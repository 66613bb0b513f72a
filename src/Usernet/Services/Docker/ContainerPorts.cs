using System.Collections.Concurrent;
using Usernet.Platform;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Services.Docker;

/// <summary>
/// The host ports published for the guest daemon's containers. Each container's state is looked
/// at under a lock of its own and followed to what the daemon says (state-based, so events
/// that arrive late or twice change nothing). A start through the API proxy holds that lock from
/// before the daemon sees it until its answer is back (<see cref="StartInterception"/>), so that
/// a container is never half-published. Publishing itself runs on the loop, through the same
/// <see cref="PortPublisher"/> as <c>-p</c> and <c>usernet port</c>.
/// </summary>
internal sealed class ContainerPorts
{
    private readonly EventLoop _loop;
    private readonly PortPublisher _publisher;
    private readonly DockerClient _daemon;
    private readonly IpAddress? _guestV6;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new();

    /// <summary>Per container id, what is published for each of its publishes. Touched on the loop thread only.</summary>
    private readonly Dictionary<string, Dictionary<ContainerPublish, List<Publish>>> _published = new();

    public ContainerPorts(EventLoop loop, PortPublisher publisher, DockerClient daemon)
    {
        _loop = loop;
        _publisher = publisher;
        _daemon = daemon;
        var stack = publisher.Stack.Options;
        _guestV6 = stack.Ipv6Enabled ? stack.FirstGuestV6 : null;
    }

    public DockerClient Daemon => _daemon;

    /// <summary>
    /// Before a start goes to the daemon: binds the container's fixed host ports. Null when the
    /// daemon knows no such container (the start then gets the daemon's own 404); a refused
    /// interception when a port cannot be bound; otherwise one that the caller completes with
    /// the daemon's answer, or abandons.
    /// </summary>
    public async Task<StartInterception?> BeginStartAsync(string container, CancellationToken cancel)
    {
        var before = await _daemon.InspectAsync(container, cancel).ConfigureAwait(false);
        if (before is null)
        {
            return null;
        }
        var gate = GateOf(before.Id);
        await gate.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            string? refusal = before.PublishesPorts ? await PublishAsync(before, ContainerPublishPlan.Fixed(before)).ConfigureAwait(false) : null;
            if (refusal is not null)
            {
                await UnpublishUnlessRunningAsync(before).ConfigureAwait(false);
                gate.Release();
                return StartInterception.Refused(refusal);
            }
            return new StartInterception(this, before.Id, gate);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>
    /// After the daemon answered a start (the caller holds the container's lock): on success,
    /// publishes the ports the daemon picked, or, when one cannot be bound, stops the container
    /// and returns the refusal to answer instead; on failure, unpublishes unless it runs.
    /// </summary>
    internal async Task<string?> CompleteStartAsync(string id, int status)
    {
        if (status is < 200 or >= 300)
        {
            await ReconcileLockedAsync(id).ConfigureAwait(false);
            return null;
        }
        var after = await _daemon.InspectAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (after is null || !after.Running || !after.PublishesPorts)
        {
            await UnpublishAsync(id).ConfigureAwait(false);
            return null;
        }
        string? refusal = await PublishAsync(after, ContainerPublishPlan.All(after)).ConfigureAwait(false);
        if (refusal is not null)
        {
            await RefuseRunningAsync(after, refusal).ConfigureAwait(false);
        }
        return refusal;
    }

    /// <summary>
    /// Follows the container's state: publishes every port of a running container, unpublishes
    /// one that stopped or is gone. Errors are logged: the event stream will bring it back.
    /// </summary>
    public async Task ReconcileAsync(string container)
    {
        try
        {
            // A client may name the container by name or short id; the lock and the table go by full id.
            string id = IsKnown(container)
                ? container
                : (await _daemon.InspectAsync(container, CancellationToken.None).ConfigureAwait(false))?.Id ?? container;
            var gate = GateOf(id);
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await ReconcileLockedAsync(id).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (DockerDaemonException e) when (e.Unreachable)
        {
            // The daemon is stopping: when its event stream ends, every publish goes.
            Log.Debug($"docker: cannot look at the ports of container {container}: {e.Message}");
        }
        catch (DockerDaemonException e)
        {
            Log.Warn($"docker: cannot look at the ports of container {container}: {e.Message}");
        }
    }

    /// <summary>The full id of a container named by the client (id, short id or name); null when there is none or the daemon does not say.</summary>
    public async Task<string?> ResolveAsync(string container)
    {
        try
        {
            return (await _daemon.InspectAsync(container, CancellationToken.None).ConfigureAwait(false))?.Id;
        }
        catch (DockerDaemonException e)
        {
            Log.Warn($"docker: cannot look up container {container}: {e.Message}");
            return null;
        }
    }

    /// <summary>Every running container and every published one, followed to its state (at start, and when the event stream comes back).</summary>
    public async Task ReconcileAllAsync(CancellationToken cancel)
    {
        List<string> running;
        try
        {
            running = await _daemon.RunningAsync(cancel).ConfigureAwait(false);
        }
        catch (DockerDaemonException e)
        {
            Log.Warn($"docker: cannot list the running containers: {e.Message}");
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var published = await _loop.InvokeAsync(_ => _published.Keys.ToList()).ConfigureAwait(false);
        foreach (string id in running.Union(published))
        {
            await ReconcileAsync(id).ConfigureAwait(false);
        }
    }

    /// <summary>Unpublishes every container's ports (the daemon went away).</summary>
    public Task UnpublishAllAsync() => _loop.InvokeAsync(_ =>
    {
        foreach (var publishes in _published.Values)
        {
            _publisher.Remove(publishes.Values.SelectMany(p => p));
        }
        _published.Clear();
        return true;
    });

    private async Task ReconcileLockedAsync(string id)
    {
        var container = await _daemon.InspectAsync(id, CancellationToken.None).ConfigureAwait(false);
        if (container is null || !container.Running || !container.PublishesPorts)
        {
            await UnpublishAsync(id).ConfigureAwait(false);
            if (container is null)
            {
                _gates.TryRemove(id, out _);
            }
            return;
        }
        var wanted = ContainerPublishPlan.All(container);
        string? refusal = await PublishAsync(container, wanted, dropOthers: true).ConfigureAwait(false);
        if (refusal is not null)
        {
            Log.Warn($"docker: {refusal}; stopping container {container.Name}, which Docker would not have started");
            await RefuseRunningAsync(container, refusal).ConfigureAwait(false);
        }
    }

    /// <summary>A running container whose ports cannot all be published: none stay published, and it is stopped.</summary>
    private async Task RefuseRunningAsync(ContainerInspection container, string refusal)
    {
        await UnpublishAsync(container.Id).ConfigureAwait(false);
        try
        {
            await _daemon.StopAsync(container.Id, 0, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DockerDaemonException e)
        {
            Log.Warn($"docker: cannot stop container {container.Name} after {refusal}: {e.Message}");
        }
    }

    private async Task UnpublishUnlessRunningAsync(ContainerInspection container)
    {
        if (!container.Running)
        {
            await UnpublishAsync(container.Id).ConfigureAwait(false);
        }
    }

    private Task UnpublishAsync(string id) => _loop.InvokeAsync(_ =>
    {
        if (_published.Remove(id, out var publishes))
        {
            _publisher.Remove(publishes.Values.SelectMany(p => p));
        }
        return true;
    });

    /// <summary>
    /// Publishes what of <paramref name="publishes"/> is not yet, all or nothing: when one cannot
    /// be, those this call added are removed again and the answer is Docker's error, else null.
    /// With <paramref name="dropOthers"/>, publishes of the container not among them go.
    /// </summary>
    private Task<string?> PublishAsync(ContainerInspection container, List<ContainerPublish> publishes, bool dropOthers = false) =>
        _loop.InvokeAsync(_ =>
        {
            if (!_published.TryGetValue(container.Id, out var current))
            {
                current = new Dictionary<ContainerPublish, List<Publish>>();
            }
            // A publish the user removed (usernet port rm) no longer counts as made.
            foreach (var (publish, made) in current.Where(e => !e.Value.All(p => _publisher.Publishes.Contains(p))).ToList())
            {
                _publisher.Remove(made);
                current.Remove(publish);
            }
            if (dropOthers)
            {
                foreach (var (publish, made) in current.Where(e => !publishes.Contains(e.Key)).ToList())
                {
                    _publisher.Remove(made);
                    current.Remove(publish);
                }
            }
            var added = new List<ContainerPublish>();
            foreach (var publish in publishes)
            {
                if (current.TryGetValue(publish, out var made))
                {
                    foreach (var one in made)
                    {
                        one.Owner = container.Name;
                    }
                    continue;
                }
                try
                {
                    current[publish] = _publisher.Add(publish.ToSpec(_guestV6), container.Name);
                    added.Add(publish);
                }
                catch (PublishException e)
                {
                    foreach (var undo in added)
                    {
                        _publisher.Remove(current[undo]);
                        current.Remove(undo);
                    }
                    StoreOrForget(container.Id, current);
                    return Refusal(container, publish, e);
                }
            }
            StoreOrForget(container.Id, current);
            return (string?)null;
        });

    private void StoreOrForget(string id, Dictionary<ContainerPublish, List<Publish>> current)
    {
        if (current.Count > 0)
        {
            _published[id] = current;
        }
        else
        {
            _published.Remove(id);
        }
    }

    /// <summary>Docker's own words for a port it cannot bind, then Usernet's reason, which names who holds the port.</summary>
    internal static string Refusal(ContainerInspection container, ContainerPublish publish, PublishException e)
    {
        string prefix = $"driver failed programming external connectivity on endpoint {container.Name} ({container.Id})";
        return e.AddressInUse
            ? $"{prefix}: Bind for {publish.DockerAddress} failed: port is already allocated (usernet: {e.Message})"
            : $"{prefix}: usernet cannot publish {publish.DockerAddress}/{publish.Protocol}: {e.Message}";
    }

    private bool IsKnown(string id) => _gates.ContainsKey(id);

    private SemaphoreSlim GateOf(string id) => _gates.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
}
