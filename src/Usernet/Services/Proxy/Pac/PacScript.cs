using Usernet.Platform.Interop;

namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// A compiled PAC script and the threads that run it: <see cref="Workers"/> engines, each on
/// its own thread (an engine is not thread-safe, and a lookup blocks the evaluation that waits
/// for it, so no call runs on a caller's pool thread). Calls wait in one lane per host, and the
/// workers take the lanes in turn, one call of a host at a time: a host whose evaluation loops
/// or resolves slowly holds at most one worker, however many requests for it a guest sends,
/// and requests for other hosts go on at once. Each call is bounded in time
/// (<see cref="CallTimeout"/>), and host lookups are shared and kept (<see cref="PacLookups"/>).
/// </summary>
internal sealed class PacScript : IDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Engines, and threads: enough that a few slow hosts leave the others a worker.</summary>
    public const int Workers = 4;

    /// <summary>Calls that may wait at once, across all hosts; more fail at once, and their connection is blocked with the reason.</summary>
    public const int MaxWaiting = 1024;

    private sealed record Call(string Url, string Host, TaskCompletionSource<string> Result);

    private readonly object _gate = new();

    /// <summary>The calls waiting, by host; a host is here while it has calls waiting or running.</summary>
    private readonly Dictionary<string, Queue<Call>> _lanes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Hosts with calls waiting and none running, in the order they are to be served.</summary>
    private readonly Queue<string> _ready = new();

    private int _waiting;
    private bool _disposed;

    private PacScript(PacEvaluator[] evaluators, PacLookups lookups)
    {
        Lookups = lookups;
        foreach (var (evaluator, index) in evaluators.Select((e, i) => (e, i)))
        {
            new Thread(() => Run(evaluator)) { IsBackground = true, Name = $"pac-{index}" }.Start();
        }
    }

    /// <summary>The host lookups the workers share.</summary>
    public PacLookups Lookups { get; }

    /// <summary>Compiles <paramref name="source"/> with the helpers; throws <see cref="PacException"/> saying what is wrong.</summary>
    public static PacScript Compile(string source, IPacHost host, Func<Instant>? clock = null)
    {
        var lookups = new PacLookups(host, clock ?? Libc.MonotonicNow);
        var evaluators = new PacEvaluator[Workers];
        for (int i = 0; i < evaluators.Length; i++)
        {
            evaluators[i] = PacEvaluator.Create(source, host, lookups);
        }
        return new PacScript(evaluators, lookups);
    }

    /// <summary>FindProxyForURL's result; a <see cref="PacException"/> when the script fails or does not return a string.</summary>
    public Task<string> FindProxyAsync(string url, string host)
    {
        var call = new Call(url, host, new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            if (_disposed)
            {
                call.Result.SetException(new PacException("the PAC script was replaced"));
            }
            else if (_waiting >= MaxWaiting)
            {
                call.Result.SetException(new PacException("too many PAC evaluations are waiting"));
            }
            else
            {
                _waiting++;
                if (_lanes.TryGetValue(host, out var lane))
                {
                    lane.Enqueue(call);
                }
                else
                {
                    lane = new Queue<Call>();
                    lane.Enqueue(call);
                    _lanes.Add(host, lane);
                    _ready.Enqueue(host);
                    Monitor.Pulse(_gate);
                }
            }
        }
        return call.Result.Task;
    }

    /// <summary>A worker: takes the next ready host's oldest call, runs it, and puts the host back in line if more wait.</summary>
    private void Run(PacEvaluator evaluator)
    {
        while (true)
        {
            string host;
            Call call;
            lock (_gate)
            {
                while (_ready.Count == 0)
                {
                    if (_disposed)
                    {
                        return;
                    }
                    Monitor.Wait(_gate);
                }
                host = _ready.Dequeue();
                call = _lanes[host].Dequeue();
                _waiting--;
            }
            try
            {
                call.Result.SetResult(evaluator.FindProxy(call.Url, call.Host));
            }
            catch (PacException e)
            {
                call.Result.SetException(e);
            }
            lock (_gate)
            {
                if (_lanes[host].Count > 0)
                {
                    _ready.Enqueue(host);
                    Monitor.Pulse(_gate);
                }
                else
                {
                    _lanes.Remove(host);
                }
            }
        }
    }

    /// <summary>No new calls; those waiting are still answered, then the workers end.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
