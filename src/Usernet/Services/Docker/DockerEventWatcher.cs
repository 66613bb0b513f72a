namespace Usernet.Services.Docker;

/// <summary>
/// Follows the daemon's container and network events, for the starts, ends and networks that do
/// not come through the API proxy: restart policies, <c>docker restart</c> or <c>docker network
/// create</c> from another client, compose, a container that exits by itself. At each
/// (re)subscription every container and network is looked at again, so that one started while
/// nobody listened (at the daemon's start, or before Usernet's) is published and routed; when the
/// stream ends (the daemon stopped or restarted) every publish, route and name goes.
/// </summary>
internal sealed class DockerEventWatcher(ContainerPorts ports, ContainerNetworks networks)
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await ports.Daemon.FollowEventsAsync(
                    () =>
                    {
                        _ = ports.ReconcileAllAsync(cancel);
                        _ = networks.RefreshAsync();
                    },
                    e =>
                    {
                        if (DockerClient.ContainerOf(e) is { } id)
                        {
                            _ = ports.ReconcileAsync(id);
                        }
                        if (ContainerNetworks.Concerns(e))
                        {
                            _ = networks.RefreshAsync();
                        }
                    },
                    cancel).ConfigureAwait(false);
            }
            catch (DockerDaemonException e)
            {
                Log.Debug($"docker: {e.Message}");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await ports.UnpublishAllAsync().ConfigureAwait(false);
            await networks.ClearAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(Retry, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
