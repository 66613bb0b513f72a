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
/// Compiling makes one engine, to say at once what is wrong with the script; the workers start
/// as calls find none idle, each with its own engine, so that a script replaced before it is
/// much used (a reload, a fuzz input) costs one engine and one thread, not four.
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

    private readonly string _source;
    private readonly IPacHost _host;

    /// <summary>The engine compiling made, for the first worker.</summary>
    private PacEvaluator? _first;

    private int _waiting;
    private int _workers;
    private int _idle;
    private bool _disposed;

    private PacScript(string source, IPacHost host, PacEvaluator first, PacLookups lookups)
    {
        _source = source;
        _host = host;
        _first = first;
        Lookups = lookups;
    }

    /// <summary>Worker threads started so far.</summary>
    public int WorkersStarted
    {
        get
        {
            lock (_gate)
            {
                return _workers;
            }
        }
    }

    /// <summary>The host lookups the workers share.</summary>
    public PacLookups Lookups { get; }

    /// <summary>Compiles <paramref name="source"/> with the helpers; throws <see cref="PacException"/> saying what is wrong.</summary>
    public static PacScript Compile(string source, IPacHost host, Func<Instant>? clock = null)
    {
        var lookups = new PacLookups(host, clock ?? Libc.MonotonicNow);
        return new PacScript(source, host, PacEvaluator.Create(source, host, lookups), lookups);
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
                    WakeWorker();
                }
            }
        }
        return call.Result.Task;
    }

    /// <summary>Under the gate: an idle worker takes the ready host, or a new one starts while there are fewer than <see cref="Workers"/>.</summary>
    private void WakeWorker()
    {
        if (_idle > 0)
        {
            // Counted off here, not by the worker when it wakes: a second call before it has
            // the gate again must not count on the same worker.
            _idle--;
            Monitor.Pulse(_gate);
        }
        else if (_workers < Workers)
        {
            var evaluator = _first;
            _first = null;
            int index = _workers++;
            new Thread(() => Start(evaluator)) { IsBackground = true, Name = $"pac-{index}" }.Start();
        }
        // Else every worker is busy, and each looks for ready hosts before it waits again.
    }

    /// <summary>A new worker's thread: its engine (the script compiled once already, so this fails only short of memory), then its calls.</summary>
    private void Start(PacEvaluator? evaluator)
    {
        try
        {
            evaluator ??= PacEvaluator.Create(_source, _host, Lookups);
        }
        catch (PacException)
        {
            lock (_gate)
            {
                // The workers that exist take the calls.
                _workers--;
            }
            return;
        }
        Run(evaluator);
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
                    _idle++;
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
                    WakeWorker();
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
            _idle = 0;
            Monitor.PulseAll(_gate);
        }
    }
}
