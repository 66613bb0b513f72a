using System.Text.Json;
using System.Text;
using Usernet.Link;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Dhcp;

/// <summary>Counters of the DHCP server.</summary>
internal sealed class DhcpServerCounters
{
    public long Requests;
    public long Offers;
    public long Acks;
    public long Naks;
    public long Ignored;
    public long Malformed;

    /// <summary>Replies sent without the options that did not fit (a long search list and many DNS servers, from the settings).</summary>
    public long Truncated;
    /// <summary>Messages whose chaddr was not the MAC they came from: a guest asking in another's name.</summary>
    public long NotFromClient;

    /// <summary>RELEASE and DECLINE for an address that was not the sender's: ignored.</summary>
    public long NotOwner;

    /// <summary>New clients turned away because their link held <see cref="DhcpServer.MaxLeasesPerLink"/> leases.</summary>
    public long LinkLimit;

    /// <summary>Addresses not given because another guest already used them (statically, say).</summary>
    public long InUse;

    /// <summary>Writes the counters into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("requests", Requests);
        writer.WriteNumber("offers", Offers);
        writer.WriteNumber("acks", Acks);
        writer.WriteNumber("naks", Naks);
        writer.WriteNumber("ignored", Ignored);
        writer.WriteNumber("malformed", Malformed);
        writer.WriteNumber("truncated", Truncated);
        writer.WriteNumber("notFromClient", NotFromClient);
        writer.WriteNumber("notOwner", NotOwner);
        writer.WriteNumber("linkLimit", LinkLimit);
        writer.WriteNumber("inUse", InUse);
    }
}

/// <summary>Where a reply goes, by the rules of RFC 2131 §4.1.</summary>
internal readonly record struct DhcpReplyTarget(Ipv4Address Address, MacAddress Mac);

/// <summary>
/// The DHCP server on the gateway (RFC 2131, options of RFC 2132). It gives each guest an
/// address from the pool with the mask, router, DNS, MTU, domain search and lease time. The
/// protocol logic is <see cref="Handle"/>, a pure function of the request, the pool and the
/// time; <see cref="OnDatagram"/> only moves bytes.
///
/// A client is the MAC its frames come from (which the switch binds to one link), never what
/// it writes in chaddr: a message naming another MAC is dropped, so no guest can take, renew,
/// release or decline another's lease. Each lease is recorded in the switch's
/// <see cref="AddressBindings"/>, so that only its client may send from the address.
/// </summary>
internal sealed class DhcpServer : IUdpService
{
    /// <summary>
    /// Clients one link may hold leases (or offers) for. A VM has one NIC on the LAN, and one
    /// more address for each container or nested VM it bridges onto it; a guest that forges
    /// client MACs can take at most this many of the pool's addresses.
    /// </summary>
    public const int MaxLeasesPerLink = 16;

    /// <summary>Addresses found in use that one DISCOVER may skip before it goes unanswered.</summary>
    private const int MaxInUseSkips = 8;

    private readonly DhcpServerOptions _options;
    private readonly DhcpLeasePool _pool;
    private readonly NetworkStack? _stack;
    private readonly AddressBindings _bindings;
    private readonly byte[] _reply = new byte[1024];
    private readonly byte[] _searchList;
    private readonly byte[]? _domainName;

    /// <param name="bindings">Where leases are recorded: the switch's (a fresh table when there is no switch, as in tests).</param>
    public DhcpServer(DhcpServerOptions options, DhcpLeasePool pool, NetworkStack? stack, AddressBindings? bindings = null)
    {
        _options = options;
        _pool = pool;
        _stack = stack;
        _bindings = bindings ?? new AddressBindings();
        if (stack is not null)
        {
            stack.GuestGone += address =>
            {
                if (address.IsV4)
                {
                    _pool.ReleaseGone(address.V4);
                }
            };
        }
        _searchList = DnsSearchList.Encode(options.SearchDomains, out var leftOut);
        if (leftOut.Count > 0)
        {
            // Said once here; DHCPv6 and router advertisements offer the same list.
            Log.Warn($"search domains left out of DHCP and router advertisements (not valid DNS names, or past {DnsSearchList.MaxLength} bytes): {string.Join(", ", leftOut)}");
        }
        // Option 15 is the first name of the list: one the encoder took is valid ASCII.
        string? first = options.SearchDomains.FirstOrDefault(name => !leftOut.Contains(name));
        _domainName = first is null ? null : Encoding.ASCII.GetBytes(first.TrimEnd('.'));
    }

    public bool AcceptsBroadcast => true;

    public DhcpServerCounters Counters { get; } = new();

    public DhcpLeasePool Pool => _pool;

    public AddressBindings Bindings => _bindings;

    /// <summary>A fixed address for <paramref name="client"/> (the guest `usernet run` configures statically).</summary>
    public void Reserve(MacAddress client, Ipv4Address address)
    {
        _pool.Reserve(client, address);
        _bindings.Reserve(address, client);
    }

    /// <summary>The server's counters and its pool's, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        Counters.WriteJson(writer);
        _pool.WriteJson(writer);
    }

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        if (request.Destination.Port != DhcpMessage.ServerPort || request.Source.Port != DhcpMessage.ClientPort)
        {
            Counters.Ignored++;
            return;
        }
        if (_stack is null)
        {
            return;
        }
        int mtu = _stack.Options.MtuFor(request.Link);
        int length = Handle(request.Payload, request.SourceMac, request.Link, mtu, now, _reply, out var target);
        if (length <= 0)
        {
            return;
        }
        _stack.SendUdpV4(
            new IpEndpoint(_options.ServerAddress, DhcpMessage.ServerPort),
            new IpEndpoint(target.Address, DhcpMessage.ClientPort),
            _reply.AsSpan(0, length), target.Mac);
    }

    /// <summary>
    /// Answers one client message from <paramref name="frameSource"/> on <paramref name="link"/>.
    /// Returns the reply's length in <paramref name="reply"/>, or 0 for no reply;
    /// <paramref name="target"/> says where it goes.
    /// </summary>
    public int Handle(
        Span<byte> payload, MacAddress frameSource, FrameLink link, int mtu, Instant now, Span<byte> reply, out DhcpReplyTarget target)
    {
        target = default;
        Counters.Requests++;
        if (!DhcpMessage.TryParse(payload, out var request) || request.Op != DhcpOpcode.BootRequest)
        {
            Counters.Malformed++;
            return 0;
        }
        MacAddress client = request.ClientHardware;
        if (!client.IsUnicast || !request.RelayAddress.IsUnspecified)
        {
            // No relays here: a guest is always on the virtual LAN itself.
            Counters.Ignored++;
            return 0;
        }
        if (client != frameSource)
        {
            // RFC 2131 §2: chaddr is the client's own hardware address. On this LAN there are no
            // relays, so another MAC there is a guest asking in someone else's name. Dropped
            // rather than answered for the frame's MAC: a guest that wants a lease of its own
            // asks with its own MAC.
            Counters.NotFromClient++;
            return 0;
        }
        var requested = request.TryGetOption(DhcpOption.RequestedAddress, out var data) && data.Length == 4
            ? Ipv4Address.Read(data) : Ipv4Address.Any;
        bool hasServerId = request.TryGetOption(DhcpOption.ServerIdentifier, out var serverId) && serverId.Length == 4;
        switch (request.MessageType)
        {
            case DhcpMessageType.Discover:
            {
                if (AtLinkLimit(client, link, now))
                {
                    Counters.LinkLimit++;
                    return 0;
                }
                var offered = Offer(client, requested, now);
                if (offered is not { } address)
                {
                    Counters.Ignored++;
                    return 0;
                }
                _pool.LeaseOf(client)!.Link = link;
                Counters.Offers++;
                return WriteReply(reply, request, DhcpMessageType.Offer, address, frameSource, mtu, out target);
            }
            case DhcpMessageType.Request:
            {
                if (hasServerId && Ipv4Address.Read(serverId) != _options.ServerAddress)
                {
                    // SELECTING another server's offer: ours is released (RFC 2131 §4.3.2).
                    var ours = _pool.LeaseOf(client);
                    if (ours is { State: DhcpLeaseState.Offered })
                    {
                        _pool.Release(client, ours.Address);
                    }
                    Counters.Ignored++;
                    return 0;
                }
                // SELECTING and INIT-REBOOT name the address in option 50; RENEWING and
                // REBINDING in ciaddr.
                var wanted = requested.IsUnspecified ? request.ClientAddress : requested;
                if (AtLinkLimit(client, link, now))
                {
                    Counters.LinkLimit++;
                    return 0;
                }
                if (!wanted.IsUnspecified && HeldByAnother(wanted, client, now))
                {
                    Counters.InUse++;
                    Counters.Naks++;
                    return WriteNak(reply, request, out target);
                }
                var previous = _pool.LeaseOf(client)?.Address;
                if (wanted.IsUnspecified || !_pool.Bind(client, wanted, _options.LeaseTime, now))
                {
                    Counters.Naks++;
                    return WriteNak(reply, request, out target);
                }
                Record(client, wanted, previous, link, now);
                Counters.Acks++;
                return WriteReply(reply, request, DhcpMessageType.Ack, wanted, frameSource, mtu, out target);
            }
            case DhcpMessageType.Decline:
                if (!requested.IsUnspecified && _pool.Decline(client, requested, now))
                {
                    _bindings.EndLease(requested, client);
                }
                else
                {
                    Counters.NotOwner++;
                }
                return 0;
            case DhcpMessageType.Release:
                if (_pool.Release(client, request.ClientAddress))
                {
                    _bindings.EndLease(request.ClientAddress, client);
                }
                else
                {
                    Counters.NotOwner++;
                }
                return 0;
            case DhcpMessageType.Inform:
                if (request.ClientAddress.IsUnspecified)
                {
                    Counters.Ignored++;
                    return 0;
                }
                Counters.Acks++;
                return WriteReply(reply, request, DhcpMessageType.Ack, Ipv4Address.Any, frameSource, mtu, out target);
            default:
                Counters.Ignored++;
                return 0;
        }
    }

    /// <summary>
    /// An address to offer <paramref name="client"/>: as the pool picks it, but never one another
    /// guest already sends from (RFC 2131 §4.4.1 has a server probe a reused address first; the
    /// switch's bindings are our probe). Such an address is set aside as if declined.
    /// </summary>
    private Ipv4Address? Offer(MacAddress client, Ipv4Address requested, Instant now)
    {
        var offered = _pool.Offer(client, requested, now);
        for (int skipped = 0; offered is { } address && HeldByAnother(address, client, now); skipped++)
        {
            Counters.InUse++;
            _pool.SetAside(address, now);
            offered = skipped < MaxInUseSkips ? _pool.Offer(client, Ipv4Address.Any, now) : null;
        }
        return offered;
    }

    private bool HeldByAnother(Ipv4Address address, MacAddress client, Instant now) =>
        _bindings.HolderOf(address, now) is { } holder && holder != client;

    /// <summary>
    /// Whether <paramref name="link"/> already holds <see cref="MaxLeasesPerLink"/> leases and
    /// offers, for a client that holds none yet (a client with one may always renew it).
    /// </summary>
    private bool AtLinkLimit(MacAddress client, FrameLink link, Instant now)
    {
        if (_pool.LeaseOf(client) is { } own && own.IsLive(now))
        {
            return false;
        }
        int held = 0;
        foreach (var lease in _pool.Leases)
        {
            if (lease.Link == link && lease.IsLive(now) && lease.State != DhcpLeaseState.Declined)
            {
                held++;
            }
        }
        return held >= MaxLeasesPerLink;
    }

    /// <summary>The lease is the client's now: only it may send from the address, and no longer from the one it had.</summary>
    private void Record(MacAddress client, Ipv4Address address, Ipv4Address? previous, FrameLink link, Instant now)
    {
        var lease = _pool.LeaseOf(client)!;
        lease.Link = link;
        if (previous is { } old && old != address)
        {
            _bindings.EndLease(old, client);
        }
        if (lease.State != DhcpLeaseState.Reserved)
        {
            _bindings.Lease(address, client, now, lease.Expires);
        }
    }

    private int WriteReply(
        Span<byte> buffer, DhcpMessage request, DhcpMessageType type, Ipv4Address yourAddress,
        MacAddress frameSource, int mtu, out DhcpReplyTarget target)
    {
        DhcpMessage.WriteReply(buffer, request, yourAddress, Ipv4Address.Any);
        var writer = new DhcpOptionWriter(buffer[DhcpMessage.FixedLength..]);
        writer.WriteByte(DhcpOption.MessageType, (byte)type);
        writer.WriteAddress(DhcpOption.ServerIdentifier, _options.ServerAddress);
        if (type != DhcpMessageType.Ack || !yourAddress.IsUnspecified)
        {
            // A lease time only where a lease is given: not in the ACK to an INFORM (RFC 2131 §3.4).
            uint seconds = (uint)_options.LeaseTime.TotalSeconds;
            writer.WriteUInt32(DhcpOption.LeaseTime, seconds);
            writer.WriteUInt32(DhcpOption.RenewalTime, seconds / 2);
            writer.WriteUInt32(DhcpOption.RebindingTime, seconds / 8 * 7);
        }
        writer.WriteAddress(DhcpOption.SubnetMask, _options.SubnetMask);
        writer.WriteAddress(DhcpOption.Router, _options.Router);
        writer.WriteAddress(DhcpOption.BroadcastAddress, _options.Broadcast);
        var dns = _options.DnsServers.ToArray();
        if (dns.Length > 0)
        {
            writer.WriteAddresses(DhcpOption.DomainNameServer, dns);
        }
        writer.WriteUInt16(DhcpOption.InterfaceMtu, (ushort)mtu);
        if (_domainName is not null)
        {
            writer.Write(DhcpOption.DomainName, _domainName);
            writer.Write(DhcpOption.DomainSearch, _searchList);
        }
        writer.WriteEnd();
        if (writer.Truncated)
        {
            // What the address needs came first and is there; the rest is configuration the
            // guest can do without, so the reply still goes.
            Counters.Truncated++;
        }
        target = ChooseTarget(request, yourAddress, frameSource);
        return PadToMinimum(buffer, DhcpMessage.FixedLength + writer.Length);
    }

    private int WriteNak(Span<byte> buffer, DhcpMessage request, out DhcpReplyTarget target)
    {
        var nak = DhcpMessage.WriteReply(buffer, request, Ipv4Address.Any, Ipv4Address.Any);
        // RFC 2131 Table 3: a NAK's ciaddr is 0, whatever the client claimed.
        nak.ClientAddress = Ipv4Address.Any;
        var writer = new DhcpOptionWriter(buffer[DhcpMessage.FixedLength..]);
        writer.WriteByte(DhcpOption.MessageType, (byte)DhcpMessageType.Nak);
        writer.WriteAddress(DhcpOption.ServerIdentifier, _options.ServerAddress);
        writer.WriteEnd();
        // A NAK is always broadcast: the client's idea of its address is what is wrong.
        target = new DhcpReplyTarget(Ipv4Address.Broadcast, MacAddress.Broadcast);
        return PadToMinimum(buffer, DhcpMessage.FixedLength + writer.Length);
    }

    /// <summary>RFC 2131 §4.1: ciaddr if the client has one, else broadcast if asked, else unicast to yiaddr.</summary>
    private static DhcpReplyTarget ChooseTarget(DhcpMessage request, Ipv4Address yourAddress, MacAddress frameSource)
    {
        if (!request.ClientAddress.IsUnspecified)
        {
            return new DhcpReplyTarget(request.ClientAddress, frameSource);
        }
        if (request.Broadcast || yourAddress.IsUnspecified)
        {
            return new DhcpReplyTarget(Ipv4Address.Broadcast, MacAddress.Broadcast);
        }
        return new DhcpReplyTarget(yourAddress, request.ClientHardware);
    }

    /// <summary>BOOTP relays and some clients expect at least 300 bytes (RFC 1542 §2.1).</summary>
    private static int PadToMinimum(Span<byte> buffer, int length)
    {
        int minimum = Math.Min(300, buffer.Length);
        if (length < minimum)
        {
            buffer[length..minimum].Clear();
            return minimum;
        }
        return length;
    }
}
