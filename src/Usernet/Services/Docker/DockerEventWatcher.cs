namespace Usernet.Services.Docker;

/// <summary>
/// Follows the daemon's container events, for the starts and ends that do not come through the
/// API proxy: restart policies, <c>docker restart</c> from another client, compose, a container
/// that exits by itself. At each (re)subscription every container is looked at again, so that
/// one started while nobody listened (at the daemon's start, or before Usernet's) is published;
/// when the stream ends (the daemon stopped or restarted) every publish goes.
/// </summary>
internal sealed class DockerEventWatcher(ContainerPorts ports)
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await ports.Daemon.FollowEventsAsync(
                    () => _ = ports.ReconcileAllAsync(cancel),
                    id => _ = ports.ReconcileAsync(id),
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
