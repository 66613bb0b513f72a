using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>One published port: where it listens on the host, where it goes in the guest, and what went through it.</summary>
internal sealed class Publish
{
    private readonly List<IDisposable> _listeners = new();

    public Publish(PublishSpec spec, IpEndpoint guest, string? owner = null)
    {
        Spec = spec;
        Guest = guest;
        Owner = owner;
    }

    /// <summary>A single-port spec, with the host port as bound (a random one filled in).</summary>
    public PublishSpec Spec { get; set; }

    public IpEndpoint Guest { get; }

    /// <summary>Who asked for it, when not the user: a Docker container's name (which a rename changes).</summary>
    public string? Owner { get; set; }

    public List<IpEndpoint> HostEndpoints { get; } = new();

    public PublishCounters Counters { get; } = new();

    internal void AddListener(IDisposable listener, IpEndpoint bound)
    {
        _listeners.Add(listener);
        HostEndpoints.Add(bound);
    }

    /// <summary>Stops listening. Connections already made through it go on until they end.</summary>
    public void Close()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        _listeners.Clear();
    }

    public override string ToString() => $"{Spec} -> {Guest}";
}
