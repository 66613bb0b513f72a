namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// The host lookups of a PAC script (dnsResolve, and isResolvable and isInNet through it;
/// myIpAddress), shared by its workers. Each name is looked up once however many evaluations
/// ask for it meanwhile, and the answer is kept for <see cref="AnswerLifetime"/> (a failure,
/// which includes a lookup that timed out, for <see cref="FailureLifetime"/>), so a script that
/// resolves every host costs one lookup per name a minute, not one per request. At most
/// <see cref="MaxNames"/> names are kept, the least recently used going first. An evaluation
/// waits for a lookup no longer than its own time allows (see <see cref="PacScript"/>): a name
/// that resolves slowly costs the evaluations that need it their time, and no others.
/// Time is an argument (the clock), so expiry is tested without waiting.
/// </summary>
internal sealed class PacLookups(IPacHost host, Func<Instant> clock)
{
    /// <summary>Names kept at most: the hosts a guest's requests go to in a minute, with room to spare.</summary>
    public const int MaxNames = 1024;

    /// <summary>How long an address is kept: a minute, as browsers keep PAC lookups (DNS TTLs are not seen here).</summary>
    public static readonly TimeSpan AnswerLifetime = TimeSpan.FromMinutes(1);

    /// <summary>How long a failed or timed-out lookup is kept: long enough that a slow name is not asked again at once.</summary>
    public static readonly TimeSpan FailureLifetime = TimeSpan.FromSeconds(10);

    /// <summary>How long myIpAddress's answer is kept: reading the interfaces is slow, and they seldom change.</summary>
    public static readonly TimeSpan AddressLifetime = TimeSpan.FromMinutes(1);

    private sealed class Entry(string name, Task<string?> answer)
    {
        public readonly string Name = name;
        public readonly Task<string?> Answer = answer;

        /// <summary>When the answer came; <see cref="Instant.Never"/> while the lookup runs.</summary>
        public Instant Settled = Instant.Never;
    }

    private readonly IPacHost _host = host;
    private readonly Func<Instant> _clock = clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byName = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Most recently used first.</summary>
    private readonly LinkedList<Entry> _recent = new();

    private string? _address;
    private Instant _addressRead;
    private long _lookups;

    /// <summary>Names kept now, answered or still being looked up.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>Lookups asked of the host so far (not those answered from here).</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>The first IPv4 address of <paramref name="name"/>, or null; waits at most <paramref name="wait"/> for a lookup.</summary>
    public string? DnsResolve(string name, TimeSpan wait)
    {
        var answer = Find(name);
        try
        {
            return wait > TimeSpan.Zero && answer.Wait(wait) ? answer.Result : answer.IsCompletedSuccessfully ? answer.Result : null;
        }
        catch (AggregateException)
        {
            return null;
        }
    }

    public string MyIpAddress()
    {
        var now = _clock();
        lock (_gate)
        {
            if (_address is not null && now < _addressRead + AddressLifetime)
            {
                return _address;
            }
        }
        string address = _host.MyIpAddress();
        lock (_gate)
        {
            _address = address;
            _addressRead = now;
        }
        return address;
    }

    private Task<string?> Find(string name)
    {
        var now = _clock();
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var node))
            {
                var entry = node.Value;
                _recent.Remove(node);
                if (entry.Settled == Instant.Never || now < entry.Settled + Lifetime(entry.Answer))
                {
                    _recent.AddFirst(node);
                    return entry.Answer;
                }
                _byName.Remove(name);
            }
            var fresh = new Entry(name, Start(name));
            _byName[name] = _recent.AddFirst(fresh);
            while (_byName.Count > MaxNames)
            {
                var oldest = _recent.Last!;
                _recent.RemoveLast();
                _byName.Remove(oldest.Value.Name);
            }
            if (fresh.Answer.IsCompleted)
            {
                fresh.Settled = now;
            }
            else
            {
                fresh.Answer.ContinueWith(static (_, state) =>
                {
                    var (lookups, entry) = ((PacLookups, Entry))state!;
                    lock (lookups._gate)
                    {
                        entry.Settled = lookups._clock();
                    }
                }, (this, fresh), TaskContinuationOptions.ExecuteSynchronously);
            }
            return fresh.Answer;
        }
    }

    private Task<string?> Start(string name)
    {
        Interlocked.Increment(ref _lookups);
        try
        {
            return _host.DnsResolveAsync(name);
        }
        catch (Exception e)
        {
            return Task.FromException<string?>(e);
        }
    }

    private static TimeSpan Lifetime(Task<string?> answer) =>
        answer.IsCompletedSuccessfully && answer.Result is not null ? AnswerLifetime : FailureLifetime;
}
