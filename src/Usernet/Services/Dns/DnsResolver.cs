using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// The DNS server's logic, on the loop thread: parses a query, answers it from the local names
/// or the cache at once (writing the response into the caller's buffer, with no allocation), or
/// starts a lookup that every client asking the same question meanwhile shares. Lookups go to
/// the host's getaddrinfo (A and AAAA, so that /etc/hosts, NSS and the host's split DNS apply)
/// or to nameservers, through <see cref="IDnsLookupSource"/>; their results come back through
/// <see cref="CompleteHost"/> and <see cref="CompleteForward"/>. Time is always passed in.
/// </summary>
internal sealed class DnsResolver
{
    /// <summary>
    /// The TTL of an address the host's getaddrinfo gave, which says no TTL: short, so that a
    /// change on the host (a VPN joined, /etc/hosts edited) shows within seconds, yet long enough
    /// that a burst of lookups of one name costs one getaddrinfo.
    /// </summary>
    public static readonly TimeSpan HostTtl = TimeSpan.FromSeconds(10);

    /// <summary>How long "no such name" or "no address of that family" from getaddrinfo is cached.</summary>
    public static readonly TimeSpan HostNegativeTtl = TimeSpan.FromSeconds(5);

    private static readonly DnsAnswer ServerFailure = DnsAnswer.Empty(DnsResponseCode.ServerFailure, DnsAnswerSource.Local);
    private static readonly DnsAnswer NoData = DnsAnswer.Empty(DnsResponseCode.NoError, DnsAnswerSource.Local);
    private static readonly DnsAnswer Refused = DnsAnswer.Empty(DnsResponseCode.Refused, DnsAnswerSource.Local);

    private readonly DnsResolverOptions _options;
    private readonly DnsLocalRecords _local;
    private readonly DnsCache _cache;
    private readonly DnsInhibitionPolicy _inhibition;
    private readonly DnsUpstreams _upstreams;
    private readonly IDnsLookupSource _source;
    private readonly DnsDatagramSender _sendDatagram;
    private readonly byte[] _name = new byte[DnsName.MaxLength];
    private readonly byte[] _lateResponse = new byte[DnsResponseWriter.TcpLimit];
    private readonly Dictionary<string, DnsLookup> _lookups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DnsLookup>.AlternateLookup<ReadOnlySpan<char>> _lookupsBySpan;
    private readonly LinkedList<DnsLookup> _byDeadline = new();

    public DnsResolver(
        DnsResolverOptions options, DnsLocalRecords local, DnsCache cache, DnsInhibitionPolicy inhibition,
        DnsUpstreams upstreams, IDnsLookupSource source, DnsDatagramSender sendDatagram)
    {
        _options = options;
        _local = local;
        _cache = cache;
        _inhibition = inhibition;
        _upstreams = upstreams;
        _source = source;
        _sendDatagram = sendDatagram;
        _lookupsBySpan = _lookups.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public DnsCounters Counters { get; } = new();

    public DnsLocalRecords Local => _local;

    public DnsCache Cache => _cache;

    public DnsUpstreams Upstreams => _upstreams;

    public DnsInhibitionPolicy Inhibition => _inhibition;

    public int LookupsInFlight => _lookups.Count;

    /// <summary>The earliest deadline of a pending lookup, or never.</summary>
    public Instant NextDeadline => _byDeadline.First?.Value.Deadline ?? Instant.Never;

    /// <summary>Sees every response sent (the transparent proxy learns which name each address came from).</summary>
    public DnsResponseObserver? ResponseObserver { get; set; }

    /// <summary>Asked for every query that no name of Usernet's own answers: the egress policy's denied names.</summary>
    public DnsNameRefusal? NameRefusal { get; set; }

    /// <summary>Called with the deadline of each new lookup, so that the owner runs <see cref="Expire"/> by then.</summary>
    public Action<Instant>? ScheduleExpiry { get; set; }

    /// <summary><see cref="Resolve"/>: the answer goes to the client later.</summary>
    public const int Pending = 0;

    /// <summary><see cref="Resolve"/>: the query gets no answer at all.</summary>
    public const int Dropped = -1;

    /// <summary>
    /// Handles one query. Returns the length of the response written into
    /// <paramref name="response"/> (at least <see cref="DnsResponseWriter.TcpLimit"/> bytes for
    /// TCP, <see cref="DnsResponseWriter.UdpPayloadSize"/> for UDP); <see cref="Pending"/> when
    /// the answer goes to <paramref name="replyTo"/> later; <see cref="Dropped"/> when there is none.
    /// </summary>
    public int Resolve(Span<byte> message, in DnsReplyTo replyTo, Span<byte> response, Instant now)
    {
        Counters.Queries++;
        var status = DnsQuery.TryParse(message, _name, out var query);
        switch (status)
        {
            case DnsQueryStatus.Ignore:
                Counters.DroppedMalformed++;
                return Dropped;
            case DnsQueryStatus.FormatError:
                Counters.FormatErrors++;
                return OrDropped(DnsResponseWriter.WriteError(response, query.Id, query.Flags, [], false, DnsResponseCode.FormatError));
            case DnsQueryStatus.NotImplemented:
                Counters.NotImplemented++;
                return OrDropped(DnsResponseWriter.WriteError(response, query.Id, query.Flags, [], false, DnsResponseCode.NotImplemented));
            case DnsQueryStatus.BadVersion:
                // RFC 6891 §6.1.3: answered with our own (version 0) OPT.
                Counters.FormatErrors++;
                return OrDropped(DnsResponseWriter.WriteError(response, query.Id, query.Flags, query.Question, true, DnsResponseCode.BadVersion));
        }
        int limit = replyTo.IsTcp ? DnsResponseWriter.TcpLimit : Math.Min(query.UdpPayloadSize, DnsResponseWriter.UdpPayloadSize);
        ushort type = query.Type;
        if (query.Class != DnsClass.Internet || type is DnsType.Axfr or DnsType.Ixfr or DnsType.Opt)
        {
            // Other classes (CHAOS version.bind) and zone transfers are not served.
            return Respond(response, query, Refused, limit, authoritative: false, now);
        }
        if (_local.TryAnswer(query.Name, type, out var answer))
        {
            Counters.AnsweredLocal++;
            if (_inhibition.Filters(type, local: true))
            {
                Counters.Inhibited++;
                answer = NoData;
            }
            return Respond(response, query, answer, limit, authoritative: true, now);
        }
        if (NameRefusal?.Invoke(query.Name) is byte refusal and not DnsResponseCode.NoError)
        {
            Counters.EgressRefused++;
            return Respond(response, query, DnsAnswer.Empty(refusal, DnsAnswerSource.Local), limit, authoritative: false, now);
        }
        if (_inhibition.Filters(type, local: false))
        {
            Counters.Inhibited++;
            return Respond(response, query, NoData, limit, authoritative: false, now);
        }
        Span<char> keyBuffer = stackalloc char[DnsKey.MaxLength];
        var key = DnsKey.ForQuestion(query.Name, type, keyBuffer);
        if (_cache.TryGet(key, now, out answer))
        {
            Counters.AnsweredFromCache++;
            return Respond(response, query, answer, limit, authoritative: false, now);
        }
        return StartOrJoin(key, query, replyTo, limit, response, now);
    }

    private int StartOrJoin(ReadOnlySpan<char> key, DnsQuery query, in DnsReplyTo replyTo, int limit, Span<byte> response, Instant now)
    {
        if (_lookupsBySpan.TryGetValue(key, out var pending))
        {
            foreach (var waiter in pending.Waiters)
            {
                if (waiter.Id == query.Id && waiter.ReplyTo == replyTo)
                {
                    // The client's own retransmission: it gets one answer.
                    return Dropped;
                }
            }
            if (pending.Waiters.Count >= _options.MaxWaitersPerLookup)
            {
                Counters.DroppedWaiters++;
                return Dropped;
            }
            Counters.JoinedLookup++;
            pending.Waiters.Add(WaiterFor(query, replyTo, limit, now));
            return Pending;
        }
        if (_lookups.Count >= _options.MaxLookups)
        {
            Counters.Overloaded++;
            return Respond(response, query, ServerFailure, limit, authoritative: false, now);
        }
        var route = _upstreams.Route(query.Name);
        DnsLookupKind kind;
        IReadOnlyList<IpEndpoint> servers = [];
        if (route is null && _options.HostResolver && query.Type is DnsType.A or DnsType.Aaaa && ForHostResolver(query.Name))
        {
            kind = DnsLookupKind.Host;
        }
        else
        {
            kind = DnsLookupKind.Upstream;
            servers = route ?? _upstreams.Default;
            if (servers.Count == 0)
            {
                return Respond(response, query, ServerFailure, limit, authoritative: false, now);
            }
        }
        var lookup = new DnsLookup(key.ToString(), query.Name.ToArray(), query.Type, kind, servers, now + _options.Timeout);
        lookup.Waiters.Add(WaiterFor(query, replyTo, limit, now));
        _lookups[lookup.Key] = lookup;
        lookup.DeadlineNode = _byDeadline.AddLast(lookup);
        ScheduleExpiry?.Invoke(lookup.Deadline);
        if (kind == DnsLookupKind.Host)
        {
            _source.ResolveOnHost(lookup, this);
        }
        else
        {
            _source.Forward(lookup, this);
        }
        return Pending;
    }

    /// <summary>
    /// A name getaddrinfo takes as the same name: a host name whose last label does not start
    /// with a digit, since getaddrinfo reads "10.1" or "0x7f.1" as an address, not a name (and
    /// no top-level domain starts with one, RFC 3696 §2).
    /// </summary>
    private static bool ForHostResolver(ReadOnlySpan<byte> name)
    {
        if (!DnsName.IsHostName(name))
        {
            return false;
        }
        int last = 0;
        for (int position = 0; name[position] != 0; position += 1 + name[position])
        {
            last = position;
        }
        return !char.IsAsciiDigit((char)name[last + 1]);
    }

    private static DnsWaiter WaiterFor(DnsQuery query, in DnsReplyTo replyTo, int limit, Instant now) =>
        new(replyTo, query.Id, query.Flags, query.Question.ToArray(), query.HasEdns, limit, now);

    /// <summary>The host's getaddrinfo answered <paramref name="lookup"/>.</summary>
    public void CompleteHost(DnsLookup lookup, HostLookupResult result, Instant now)
    {
        if (!Finish(lookup))
        {
            return;
        }
        var answer = result.Status switch
        {
            HostLookupStatus.Found => DnsAnswerBuilder.Addresses(
                result.Addresses, lookup.Type, (uint)HostTtl.TotalSeconds, DnsAnswerSource.Host, now, now + HostTtl),
            HostLookupStatus.NoData => new DnsAnswer(DnsResponseCode.NoError, 0, 0, 0, [], [], DnsAnswerSource.Host, now, now + HostNegativeTtl),
            HostLookupStatus.NoName => new DnsAnswer(DnsResponseCode.NameError, 0, 0, 0, [], [], DnsAnswerSource.Host, now, now + HostNegativeTtl),
            _ => ServerFailure,
        };
        if (answer != ServerFailure)
        {
            Counters.AnsweredByHost++;
            CacheAnswer(lookup, answer, now);
        }
        else
        {
            Counters.UpstreamFailures++;
        }
        ReplyToWaiters(lookup, answer, now);
    }

    /// <summary>A nameserver answered <paramref name="lookup"/> with <paramref name="response"/> (matched to it already), or none did (null).</summary>
    public void CompleteForward(DnsLookup lookup, byte[]? response, Instant now)
    {
        if (!Finish(lookup))
        {
            return;
        }
        var answer = response is null
            ? null
            : DnsAnswerBuilder.FromUpstream(response, DnsMessage.HeaderLength + lookup.Name.Length + 4, now);
        if (answer is null)
        {
            // No nameserver gave a usable answer (each failed or answered nonsense).
            Counters.UpstreamFailures++;
            answer = ServerFailure;
        }
        else
        {
            Counters.AnsweredByUpstream++;
            if (answer.ResponseCode is DnsResponseCode.NoError or DnsResponseCode.NameError)
            {
                CacheAnswer(lookup, answer, now);
            }
        }
        ReplyToWaiters(lookup, answer, now);
    }

    /// <summary>Fails every lookup whose deadline has come: its clients get SERVFAIL.</summary>
    public void Expire(Instant now)
    {
        while (_byDeadline.First is { } node && node.Value.Deadline <= now)
        {
            var lookup = node.Value;
            Finish(lookup);
            Counters.Timeouts++;
            ReplyToWaiters(lookup, ServerFailure, now);
        }
    }

    /// <summary>Forgets every cached answer (the host's resolver configuration changed).</summary>
    public void ClearCache() => _cache.Clear();

    private void CacheAnswer(DnsLookup lookup, DnsAnswer answer, Instant now)
    {
        if (answer.Expires > now)
        {
            _cache.Add(lookup.Key, answer);
        }
    }

    private bool Finish(DnsLookup lookup)
    {
        if (lookup.Completed)
        {
            return false;
        }
        lookup.Completed = true;
        _lookups.Remove(lookup.Key);
        _byDeadline.Remove(lookup.DeadlineNode!);
        lookup.DeadlineNode = null;
        return true;
    }

    private void ReplyToWaiters(DnsLookup lookup, DnsAnswer answer, Instant now)
    {
        foreach (var waiter in lookup.Waiters)
        {
            int length = DnsResponseWriter.Write(
                _lateResponse, waiter.Id, waiter.Flags, waiter.Question, waiter.Edns, waiter.Limit, answer, false, now, out bool truncated);
            Count(answer, truncated);
            Counters.AnswerTime.Observe(now - waiter.Asked);
            if (length == 0)
            {
                // Not even the question fits: the 64 KiB buffer always holds it.
                continue;
            }
            var reply = _lateResponse.AsSpan(0, length);
            ResponseObserver?.Invoke(reply);
            if (waiter.ReplyTo.Stream is { } stream)
            {
                stream.Send(reply);
            }
            else
            {
                _sendDatagram(waiter.ReplyTo.Server, waiter.ReplyTo.Client, reply);
            }
        }
        lookup.Waiters.Clear();
    }

    private int Respond(Span<byte> response, DnsQuery query, DnsAnswer answer, int limit, bool authoritative, Instant now)
    {
        int length = DnsResponseWriter.Write(
            response, query.Id, query.Flags, query.Question, query.HasEdns, limit, answer, authoritative, now, out bool truncated);
        Count(answer, truncated);
        // Answered within the loop's turn that brought the query: no time passed on its clock.
        Counters.AnswerTime.Observe(TimeSpan.Zero);
        if (length == 0)
        {
            return Dropped;
        }
        ResponseObserver?.Invoke(response[..length]);
        return length;
    }

    /// <summary>A response the writer could not fit at all (length 0) is no response.</summary>
    private static int OrDropped(int length) => length > 0 ? length : Dropped;

    private void Count(DnsAnswer answer, bool truncated)
    {
        if (truncated)
        {
            Counters.Truncated++;
        }
        switch (answer.ResponseCode)
        {
            case DnsResponseCode.NameError:
                Counters.NameErrors++;
                break;
            case DnsResponseCode.ServerFailure:
                Counters.ServerFailures++;
                break;
            case DnsResponseCode.Refused:
                Counters.Refused++;
                break;
        }
    }
}
