namespace Usernet.Services.Docker;

/// <summary>
/// A container start the API proxy holds while the daemon handles it, with the container's lock:
/// Refused (answer <see cref="Refusal"/>, send nothing on) or Pending -> Completed | Abandoned.
/// Completing or abandoning releases the lock once; later calls do nothing.
/// </summary>
internal sealed class StartInterception
{
    private readonly ContainerPorts? _ports;
    private readonly string _id;
    private readonly SemaphoreSlim? _gate;
    private int _finished;

    public StartInterception(ContainerPorts ports, string id, SemaphoreSlim gate)
    {
        _ports = ports;
        _id = id;
        _gate = gate;
    }

    private StartInterception(string refusal)
    {
        _id = "";
        Refusal = refusal;
        _finished = 1;
    }

    /// <summary>Docker's error message when the container's ports cannot be published: the start is answered with it and not sent on.</summary>
    public string? Refusal { get; }

    public static StartInterception Refused(string refusal) => new(refusal);

    /// <summary>With the daemon's status for the start: null to pass its answer on, or a refusal to answer instead.</summary>
    public async Task<string?> CompleteAsync(int status)
    {
        if (Interlocked.Exchange(ref _finished, 1) == 1)
        {
            return null;
        }
        try
        {
            return await _ports!.CompleteStartAsync(_id, status).ConfigureAwait(false);
        }
        catch (DockerDaemonException e)
        {
            Log.Warn($"docker: after starting container {_id}: {e.Message}");
            return null;
        }
        finally
        {
            _gate!.Release();
        }
    }

    /// <summary>The connection ended before the daemon answered: whatever the daemon did, the ports follow the container's state.</summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 1)
        {
            return;
        }
        _gate!.Release();
        _ = _ports!.ReconcileAsync(_id);
    }
}
