using System.Text.Json;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>The stack's side of the switch: one MAC, answering for the gateway and host IPs.</summary>
internal interface ISwitchPort
{
    MacAddress Mac { get; }

    /// <summary>
    /// A frame for the stack (to its MAC, or broadcast/multicast). With
    /// <paramref name="checksumTrusted"/> the link vouches for its transport checksum.
    /// </summary>
    void Receive(Span<byte> frame, FrameLink from, Instant now, bool checksumTrusted = false);

    /// <summary>A guest link went away; flows and leases bound to it can be released.</summary>
    void OnLinkClosed(FrameLink link);

    /// <summary>
    /// What the port hands <paramref name="frame"/> to, from its headers alone: the name a fault
    /// while handling it is counted under. A small, fixed set of names.
    /// </summary>
    string HandlerOf(Span<byte> frame);
}

/// <summary>Where the stack sends frames towards the guests.</summary>
internal interface IFrameTransmitter
{
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>Sends a frame on one link only (a router advertisement carries that link's MTU).</summary>
    void TransmitTo(FrameLink link, ReadOnlySpan<byte> frame);

    /// <summary>The guest links, for what the stack sends to each of them.</summary>
    IReadOnlyList<FrameLink> Links { get; }
}

/// <summary>Counters of the switch.</summary>
internal sealed class SwitchCounters
{
    public long Truncated;

    /// <summary>Frames whose partial checksum pointed outside them.</summary>
    public long BadChecksumOffload;

    public long ToStack;
    public long BetweenGuests;
    public long Flooded;
    public long LinksOpened;
    public long LinksClosed;

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("truncated", Truncated);
        writer.WriteNumber("badChecksumOffload", BadChecksumOffload);
        writer.WriteNumber("betweenGuests", BetweenGuests);
        writer.WriteNumber("flooded", Flooded);
        writer.WriteNumber("linksOpened", LinksOpened);
        writer.WriteNumber("linksClosed", LinksClosed);
    }
}

/// <summary>
/// A learning Ethernet switch between the guest links and the stack, so that several VMs
/// share one virtual LAN (and reach each other) as they would behind a real switch.
/// </summary>
internal sealed class VirtualSwitch : IFrameReceiver, IFrameTransmitter
{
    /// <summary>Learned MACs kept; a guest cannot grow the table past this by forging sources.</summary>
    private const int MaxLearned = 4096;

    private readonly List<FrameLink> _links = new();
    private readonly Dictionary<MacAddress, FrameLink> _learned = new();
    private readonly EventLoop _loop;
    private ISwitchPort? _stack;

    public VirtualSwitch(EventLoop loop) => _loop = loop;

    public SwitchCounters Counters { get; } = new();

    public PcapWriter? Capture { get; set; }

    public IReadOnlyList<FrameLink> Links => _links;

    /// <summary>Raised on the loop thread when the last link closes.</summary>
    public event Action? AllLinksClosed;

    public event Action<FrameLink, string>? LinkClosed;

    public void AttachStack(ISwitchPort stack) => _stack = stack;

    public void Attach(FrameLink link)
    {
        _links.Add(link);
        Counters.LinksOpened++;
        link.Start(_loop, this);
    }

    /// <summary>
    /// One frame from a guest. This is the one guard on the frame path: an exception while
    /// handling the frame (in the switch, the stack or a service) drops that frame alone and
    /// is counted in the loop's faults; the link it came on, and every other, carries on.
    /// </summary>
    public void OnFrame(FrameLink link, Span<byte> frame, Instant now, ReceivedChecksum checksum = default)
    {
        try
        {
            Forward(link, frame, now, checksum);
        }
        catch (Exception e)
        {
            _loop.Faults.Record("frame " + (_stack?.HandlerOf(frame) ?? "switch"), e);
        }
    }

    private void Forward(FrameLink link, Span<byte> frame, Instant now, ReceivedChecksum checksum)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet))
        {
            Capture?.Write(frame);
            Counters.Truncated++;
            return;
        }
        if (Capture is not null)
        {
            // A capture shows the frame as it would be on a wire, with its checksum complete.
            if (!Complete(frame, ref checksum))
            {
                return;
            }
            Capture.Write(frame);
        }
        MacAddress source = ethernet.Source;
        MacAddress destination = ethernet.Destination;
        if (source.IsUnicast)
        {
            Learn(source, link);
        }
        if (destination == _stack?.Mac)
        {
            Counters.ToStack++;
            _stack.Receive(frame, link, now, checksum.Trusted);
            return;
        }
        // Whatever goes on to other guests goes with its checksum complete: their links may
        // have no offload, and their kernels would drop it otherwise.
        if (destination.IsMulticast)
        {
            if (!Complete(frame, ref checksum))
            {
                return;
            }
            FloodGuests(frame, except: link);
            Counters.ToStack++;
            _stack?.Receive(frame, link, now, checksum.Trusted);
            return;
        }
        if (_learned.TryGetValue(destination, out var target))
        {
            if (target != link && Complete(frame, ref checksum))
            {
                Counters.BetweenGuests++;
                target.Send(frame);
            }
            return;
        }
        if (Complete(frame, ref checksum))
        {
            Counters.Flooded++;
            FloodGuests(frame, except: link);
        }
    }

    /// <summary>
    /// Fills in a checksum the guest left partial; false (and counted) when its positions do
    /// not fit the frame, which no kernel would send.
    /// </summary>
    private bool Complete(Span<byte> frame, ref ReceivedChecksum checksum)
    {
        if (checksum.State != ReceivedChecksumState.Partial)
        {
            return true;
        }
        if (!InternetChecksum.CompletePartial(frame, checksum.Start, checksum.Offset))
        {
            Counters.BadChecksumOffload++;
            return false;
        }
        checksum = checksum with { State = ReceivedChecksumState.Valid };
        return true;
    }

    /// <summary>A frame from the stack towards the guests.</summary>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        Capture?.Write(frame);
        var destination = MacAddress.Read(frame);
        if (!destination.IsMulticast && _learned.TryGetValue(destination, out var target))
        {
            target.Send(frame);
            return;
        }
        FloodGuests(frame, except: null);
    }

    public void TransmitTo(FrameLink link, ReadOnlySpan<byte> frame)
    {
        Capture?.Write(frame);
        link.Send(frame);
    }

    public void OnLinkClosed(FrameLink link, string reason)
    {
        if (!_links.Remove(link))
        {
            return;
        }
        Counters.LinksClosed++;
        Log.Info($"{link.Description}: closed ({reason})");
        foreach (var mac in _learned.Where(e => e.Value == link).Select(e => e.Key).ToList())
        {
            _learned.Remove(mac);
        }
        _stack?.OnLinkClosed(link);
        LinkClosed?.Invoke(link, reason);
        if (_links.Count == 0)
        {
            AllLinksClosed?.Invoke();
        }
    }

    private void Learn(MacAddress source, FrameLink link)
    {
        if (_learned.TryGetValue(source, out var known))
        {
            if (known != link)
            {
                _learned[source] = link;
            }
            return;
        }
        if (_learned.Count >= MaxLearned)
        {
            // Forget everything rather than track age: a flood of forged MACs costs the
            // honest guests only one round of flooding while they are relearned.
            _learned.Clear();
        }
        _learned[source] = link;
    }

    private void FloodGuests(ReadOnlySpan<byte> frame, FrameLink? except)
    {
        foreach (var link in _links)
        {
            if (link != except)
            {
                link.Send(frame);
            }
        }
    }

    /// <summary>Writes out what the links batched; the loop calls it after everything else in a batch.</summary>
    public void Flush()
    {
        // Backwards: a link whose write fails closes and leaves the list during its flush.
        for (int i = _links.Count - 1; i >= 0; i--)
        {
            if (i < _links.Count)
            {
                _links[i].Flush();
            }
        }
    }

    public void CloseAll()
    {
        foreach (var link in _links.ToList())
        {
            link.Dispose();
        }
        _links.Clear();
        Capture?.Flush();
    }
}
