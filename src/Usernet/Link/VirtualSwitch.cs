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
    /// <summary>An address the stack answers for (gateway, host): no guest may send from it.</summary>
    bool IsOwnAddress(IpAddress address);

    /// <summary>An address a guest on this LAN may hold (the subnet, the prefix, link-local), and so bind.</summary>
    bool IsLanAddress(IpAddress address);
}

/// <summary>Where the stack sends frames towards the guests.</summary>
internal interface IFrameTransmitter
{
    /// <summary>
    /// Sends a frame to the guest its destination MAC names, or to all. With a
    /// <paramref name="checksum"/> left partial, the frame may be completed in place.
    /// </summary>
    void Transmit(Span<byte> frame, PartialChecksum checksum = default);

    /// <summary>Sends a frame on one link only (a router advertisement carries that link's MTU).</summary>
    void TransmitTo(FrameLink link, Span<byte> frame, PartialChecksum checksum = default);

    /// <summary>The guest links, for what the stack sends to each of them.</summary>
    IReadOnlyList<FrameLink> Links { get; }

    /// <summary>The link behind which <paramref name="guest"/> was last bound, if any.</summary>
    FrameLink? LinkOf(IpAddress guest);
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

    /// <summary>Frames from a group or all-zero MAC.</summary>
    public long BadSourceMac;

    /// <summary>Frames from a MAC another link (or the stack) owns, or whose ARP or NDP names another MAC.</summary>
    public long MacSpoofed;

    /// <summary>Frames from a new MAC while the MAC table was full.</summary>
    public long MacTableFull;

    /// <summary>Frames from (or advertising) an address another MAC holds, or the gateway's or host's.</summary>
    public long AddressSpoofed;

    /// <summary>Frames from a free address while the address bindings were full.</summary>
    public long AddressTableFull;

    /// <summary>Router advertisements and redirects guests sent (RA guard).</summary>
    public long RouterMessages;

    /// <summary>DHCP and DHCPv6 server messages guests sent.</summary>
    public long DhcpServerMessages;

    /// <summary>IPv6 frames whose upper-layer header could not be found.</summary>
    public long Unverifiable;

    /// <summary>Counts a frame the guard refused.</summary>
    public void Refused(GuardVerdict verdict)
    {
        switch (verdict)
        {
            case GuardVerdict.BadSourceMac:
                BadSourceMac++;
                break;
            case GuardVerdict.MacSpoofed:
                MacSpoofed++;
                break;
            case GuardVerdict.MacTableFull:
                MacTableFull++;
                break;
            case GuardVerdict.AddressSpoofed:
                AddressSpoofed++;
                break;
            case GuardVerdict.AddressTableFull:
                AddressTableFull++;
                break;
            case GuardVerdict.RouterMessage:
                RouterMessages++;
                break;
            case GuardVerdict.DhcpServerMessage:
                DhcpServerMessages++;
                break;
            case GuardVerdict.Unverifiable:
                Unverifiable++;
                break;
        }
    }

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("truncated", Truncated);
        writer.WriteNumber("badChecksumOffload", BadChecksumOffload);
        writer.WriteNumber("betweenGuests", BetweenGuests);
        writer.WriteNumber("flooded", Flooded);
        writer.WriteNumber("linksOpened", LinksOpened);
        writer.WriteNumber("linksClosed", LinksClosed);
        writer.WriteNumber("badSourceMac", BadSourceMac);
        writer.WriteNumber("macSpoofed", MacSpoofed);
        writer.WriteNumber("macTableFull", MacTableFull);
        writer.WriteNumber("addressSpoofed", AddressSpoofed);
        writer.WriteNumber("addressTableFull", AddressTableFull);
        writer.WriteNumber("routerMessages", RouterMessages);
        writer.WriteNumber("dhcpServerMessages", DhcpServerMessages);
        writer.WriteNumber("unverifiable", Unverifiable);
    }
}

/// <summary>
/// A learning Ethernet switch between the guest links and the stack, so that several VMs
/// share one virtual LAN (and reach each other) as they would behind a real switch. Like a
/// managed switch it keeps its guests apart: each MAC and address is bound to the guest that
/// has it, and every frame a guest sends passes the <see cref="SourceGuard"/> first.
/// </summary>
internal sealed class VirtualSwitch : IFrameReceiver, IFrameTransmitter
{
    private readonly List<FrameLink> _links = new();
    private readonly MacTable _macs = new();
    private readonly SourceGuard _guard;
    private readonly EventLoop _loop;
    private ISwitchPort? _stack;

    public VirtualSwitch(EventLoop loop)
    {
        _loop = loop;
        _guard = new SourceGuard(_macs, Addresses);
    }

    /// <summary>Which MAC may send from each guest address; the DHCP servers record their leases here.</summary>
    public AddressBindings Addresses { get; } = new();

    public SwitchCounters Counters { get; } = new();

    public PcapWriter? Capture { get; set; }

    public IReadOnlyList<FrameLink> Links => _links;

    /// <summary>Raised on the loop thread when the last link closes.</summary>
    public event Action? AllLinksClosed;

    public event Action<FrameLink, string>? LinkClosed;

    public void AttachStack(ISwitchPort stack)
    {
        _stack = stack;
        _guard.Stack = stack;
    }

    /// <summary>The counters, and how full the tables are, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        Counters.WriteJson(writer);
        writer.WriteNumber("macs", _macs.Count);
        writer.WriteNumber("macsEvicted", _guard.MacsEvicted);
        writer.WriteNumber("addressBindings", Addresses.Count);
        writer.WriteNumber("addressesEvicted", _guard.AddressesEvicted);
    }

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
        _loop.CountFrame(frame.Length);
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
        var verdict = _guard.Check(ethernet, link, now);
        if (verdict != GuardVerdict.Pass)
        {
            Counters.Refused(verdict);
            return;
        }
        MacAddress destination = ethernet.Destination;
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
        if (_macs.TryGetLink(destination, out var target))
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
    public void Transmit(Span<byte> frame, PartialChecksum checksum = default)
    {
        _loop.CountFrame(frame.Length);
        var destination = MacAddress.Read(frame);
        if (!destination.IsMulticast && _macs.TryGetLink(destination, out var target))
        {
            TransmitTo(target, frame, checksum);
            return;
        }
        if (CompleteOwn(frame, checksum))
        {
            Capture?.Write(frame);
            FloodGuests(frame, except: null);
        }
    }

    public void TransmitTo(FrameLink link, Span<byte> frame, PartialChecksum checksum = default)
    {
        if (checksum.IsPartial && link.TakesPartialChecksums && Capture is null)
        {
            link.SendPartial(frame, checksum);
            return;
        }
        if (CompleteOwn(frame, checksum))
        {
            Capture?.Write(frame);
            link.Send(frame);
        }
    }

    /// <summary>
    /// Completes a checksum the stack left partial, for a link (or capture) that needs it whole.
    /// The stack's own positions always fit; a failure is counted and the frame dropped.
    /// </summary>
    private bool CompleteOwn(Span<byte> frame, PartialChecksum checksum)
    {
        if (checksum.Complete(frame))
        {
            return true;
        }
        Counters.BadChecksumOffload++;
        return false;
    }

    public void OnLinkClosed(FrameLink link, string reason)
    {
        if (!_links.Remove(link))
        {
            return;
        }
        Counters.LinksClosed++;
        Log.Info($"{link.Description}: closed ({reason})");
        Addresses.Forget(link, _macs.Forget(link));
        _stack?.OnLinkClosed(link);
        LinkClosed?.Invoke(link, reason);
        if (_links.Count == 0)
        {
            AllLinksClosed?.Invoke();
        }
    }

    public FrameLink? LinkOf(IpAddress guest)
    {
        if (!Addresses.TryGetHolder(guest, out var mac, out var link))
        {
            return null;
        }
        return link ?? (_macs.TryGetLink(mac, out var owner) ? owner : null);
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
