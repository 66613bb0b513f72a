using System.Text;
using System.Threading.Channels;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Services.Proxy;
using Usernet.Stack;

namespace Usernet.Services.FlowLog;

/// <summary>
/// The flow log: a line (<see cref="FlowLogLine"/>) for each TCP connection, UDP flow and echo
/// flow that ends (and, under log.flowStarts, one as it starts), from the <see cref="FlowRecord"/> the stack counted into; nothing of it runs
/// per packet. At a flow's end the loop thread notes what only it knows (the link, the MAC, the
/// name); the line is formatted only where somebody reads it, so that with no file and no
/// follower a connection's end costs no JSON. The last <see cref="RecentLimit"/> ends are kept
/// for <c>GET /flows</c> (formatted when asked), and the lines go to each follower of
/// <c>GET /flows?follow=1</c>, and to the log.flows file, which a thread of its own writes
/// and rotates. A follower or the file that falls <see cref="QueueLimit"/> lines behind loses
/// lines rather than hold memory or the loop; each loss is counted.
/// </summary>
internal sealed class FlowLog : IAsyncDisposable
{
    public const int RecentLimit = 1000;
    public const int QueueLimit = 16384;
    public const int MaxFollowers = 16;

    private readonly VirtualSwitch _network;
    private readonly NetworkStack _stack;
    private readonly ResolvedNames _names;
    private readonly Lock _gate = new();
    private readonly Queue<Logged> _recent = new();
    private readonly List<Channel<string>> _followers = new();
    private readonly FlowLogFile? _file;

    public FlowLog(VirtualSwitch network, NetworkStack stack, ResolvedNames names, FlowLogFile? file)
    {
        _network = network;
        _stack = stack;
        _names = names;
        _file = file;
    }

    /// <summary>Lines written since start.</summary>
    public long Lines { get; private set; }

    /// <summary>Lines a follower missed for being too far behind.</summary>
    public long FollowerLosses;

    /// <summary>How long after a read of the open flows (<c>usernet top</c>, every second) names are still learned.</summary>
    public static readonly TimeSpan OpenReaderWindow = TimeSpan.FromSeconds(15);

    private long _openReadAt = long.MinValue / 2;

    /// <summary>
    /// Whether anything reads the lines as they come, or read the open flows within
    /// <see cref="OpenReaderWindow"/>: then names are worth learning from DNS answers.
    /// </summary>
    public bool HasReaders
    {
        get
        {
            if (Environment.TickCount64 - Interlocked.Read(ref _openReadAt) < (long)OpenReaderWindow.TotalMilliseconds)
            {
                return true;
            }
            lock (_gate)
            {
                return _file is not null || _followers.Count > 0;
            }
        }
    }

    /// <summary>A flow ended (on the loop thread; <paramref name="now"/> is the loop's time).</summary>
    public void Add(FlowRecord record, FlowEnd end, Instant now) => Add(new Logged(record, end, ContextOf(record, now)));

    /// <summary>
    /// A flow started (on the loop thread), under log.flowStarts only: its line goes where the
    /// end lines go. Its fields are all set by then, so it may be formatted later, as an end's.
    /// </summary>
    public void AddStart(FlowRecord record, Instant now) => Add(new Logged(record, null, ContextOf(record, now)));

    private void Add(Logged ended)
    {
        string? line = null;
        Lines++;
        lock (_gate)
        {
            if (_recent.Count == RecentLimit)
            {
                _recent.Dequeue();
            }
            _recent.Enqueue(ended);
            foreach (var follower in _followers)
            {
                line ??= ended.Format();
                if (!follower.Writer.TryWrite(line))
                {
                    Interlocked.Increment(ref FollowerLosses);
                }
            }
        }
        if (_file is not null)
        {
            _file.Write(line ?? ended.Format());
        }
    }

    /// <summary>
    /// The flows open now as lines with no end, their counts so far (on the loop thread, on
    /// request: <c>GET /flows/open</c>, which <c>usernet top</c> reads every second).
    /// </summary>
    public string Open(IEnumerable<FlowRecord> records, Instant now)
    {
        Interlocked.Exchange(ref _openReadAt, Environment.TickCount64);
        var text = new StringBuilder();
        foreach (var record in records)
        {
            text.Append(FlowLogLine.Format(record, null, ContextOf(record, now))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>What the line says beside the record's own counts, read on the loop thread.</summary>
    private FlowLogLine.Context ContextOf(FlowRecord record, Instant now)
    {
        string? link = null;
        foreach (var candidate in _network.Links)
        {
            if (candidate.Id == record.LinkId)
            {
                link = candidate.Description;
                break;
            }
        }
        var mac = _stack.Neighbours.TryGet(record.Guest.Address, out var neighbour) ? neighbour.Mac : (Wire.MacAddress?)null;
        string? name = _names.Count == 0 ? null : _names.Find(record.Remote.Address.ToIPAddress());
        return new FlowLogLine.Context(DateTime.UtcNow, now - record.Started, link, mac, name);
    }

    /// <summary>The last lines, oldest first, formatted now (a record no longer changes once its flow ended).</summary>
    public string[] Recent()
    {
        Logged[] ended;
        lock (_gate)
        {
            ended = [.. _recent];
        }
        return Array.ConvertAll(ended, e => e.Format());
    }

    /// <summary>A flow that ended, or started (<paramref name="End"/> null), with what the loop thread knew of it then.</summary>
    private readonly record struct Logged(FlowRecord Record, FlowEnd? End, FlowLogLine.Context Context)
    {
        public string Format() => End is { } end ? FlowLogLine.Format(Record, end, Context) : FlowLogLine.FormatStart(Record, Context);
    }

    /// <summary>A reader of every line from now on, until disposed; null when <see cref="MaxFollowers"/> follow already.</summary>
    public Follower? Follow()
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(QueueLimit)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        lock (_gate)
        {
            if (_followers.Count >= MaxFollowers)
            {
                return null;
            }
            _followers.Add(channel);
        }
        return new Follower(this, channel);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var follower in _followers)
            {
                follower.Writer.TryComplete();
            }
        }
        if (_file is not null)
        {
            await _file.DisposeAsync();
        }
    }

    /// <summary>One follower's lines; disposing it stops them.</summary>
    public sealed class Follower(FlowLog log, Channel<string> channel) : IDisposable
    {
        public ChannelReader<string> Lines => channel.Reader;

        public void Dispose()
        {
            lock (log._gate)
            {
                log._followers.Remove(channel);
            }
            channel.Writer.TryComplete();
        }
    }

    /// <summary>A line and its end, as the stream and the file carry it.</summary>
    public static byte[] Bytes(string line) => Encoding.UTF8.GetBytes(line + "\n");
}
