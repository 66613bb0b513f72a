using System.Buffers.Binary;
using System.Text.Json;
using Usernet.Link;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Dhcp6;

/// <summary>What the DHCPv6 server tells guests.</summary>
internal sealed record Dhcpv6ServerOptions
{
    public required MacAddress ServerMac { get; init; }

    public required Ipv6Address ServerAddress { get; init; }

    public required Ipv6Cidr Prefix { get; init; }

    public required Ipv6Address FirstAddress { get; init; }

    public required IReadOnlyList<Ipv6Address> Excluded { get; init; }

    public required IReadOnlyList<Ipv6Address> DnsServers { get; init; }

    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    public int MaxLeases { get; init; } = 250;
}

/// <summary>Counters of the DHCPv6 server.</summary>
internal sealed class Dhcpv6Counters
{
    public long Requests;
    public long Replies;
    public long Leases;
    public long Malformed;
    public long Ignored;
    public long Exhausted;

    /// <summary>Leases whose time ran out without a Renew or Rebind (or an Advertise never followed by a Request).</summary>
    public long Expired;

    /// <summary>IA_NA options past <see cref="Dhcpv6Server.MaxIasPerMessage"/> in one message, left unanswered.</summary>
    public long IasIgnored;

    /// <summary>Replies that did not fit their buffer and were not sent.</summary>
    public long TooLarge;

    /// <summary>Messages with a client DUID that holds leases from another MAC: a guest asking in another's name.</summary>
    public long NotFromClient;

    /// <summary>Release and Decline that named no lease of the client's.</summary>
    public long NotOwner;

    /// <summary>IA_NA left without an address because the client's link held <see cref="Dhcpv6Server.MaxLeasesPerLink"/> leases.</summary>
    public long LinkLimit;

    /// <summary>Addresses skipped because another guest already used them.</summary>
    public long InUse;

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("requests", Requests);
        writer.WriteNumber("replies", Replies);
        writer.WriteNumber("malformed", Malformed);
        writer.WriteNumber("exhausted", Exhausted);
        writer.WriteNumber("expired", Expired);
        writer.WriteNumber("iasIgnored", IasIgnored);
        writer.WriteNumber("tooLarge", TooLarge);
        writer.WriteNumber("notFromClient", NotFromClient);
        writer.WriteNumber("notOwner", NotOwner);
        writer.WriteNumber("linkLimit", LinkLimit);
        writer.WriteNumber("inUse", InUse);
    }
}

/// <summary>
/// DHCPv6 on the gateway (RFC 8415): stateful addresses from the prefix (IA_NA), and DNS servers
/// and search list (RFC 3646) for stateful and stateless (Information-request) clients alike.
/// Addresses are kept per client DUID and IAID, within a bounded table: an advertised address is
/// held for <see cref="AdvertiseHold"/>, a bound one for the lease time from its last Request,
/// Renew or Rebind, and then goes back to the pool, so that clients that come and go (or a guest
/// that makes up DUIDs) cannot keep it empty for good. The protocol logic is the pure
/// <see cref="Handle"/>, with explicit time.
///
/// A DUID is only a name the client gives itself, which any guest that saw another's Solicit
/// can copy. So a DUID that holds leases is bound to the MAC that first took one (and the switch
/// binds that MAC to one link): a message with that DUID from another MAC is dropped, and no
/// guest can renew, release or decline another's addresses. Each lease is recorded in the
/// switch's <see cref="AddressBindings"/>, so that only its client may send from the address.
/// </summary>
internal sealed class Dhcpv6Server : IUdpService
{
    /// <summary>
    /// IA_NA options answered per message. A client has one per interface, rarely more; each
    /// takes an address and 44 bytes of the reply, so a message with hundreds must neither
    /// drain the pool nor outgrow the reply.
    /// </summary>
    public const int MaxIasPerMessage = 8;

    /// <summary>How long an address in an Advertise is held for the client's Request.</summary>
    public static readonly TimeSpan AdvertiseHold = TimeSpan.FromSeconds(30);

    /// <summary>Addresses the clients of one link may hold, for the reason of <see cref="Dhcp.DhcpServer.MaxLeasesPerLink"/>.</summary>
    public const int MaxLeasesPerLink = 16;

    private readonly Dhcpv6ServerOptions _options;
    private readonly NetworkStack? _stack;
    private readonly byte[] _serverId;
    private readonly byte[] _searchList;
    private readonly Dictionary<string, Dhcpv6Lease> _leases = new();

    /// <summary>The MAC and link of each client DUID (hex) that took a lease; kept while it holds one.</summary>
    private readonly Dictionary<string, (MacAddress Mac, FrameLink Link)> _owners = new();
    private readonly AddressBindings _bindings;
    private readonly HashSet<Ipv6Address> _taken = new();

    // Addresses clients declined as in use by someone else, oldest first: held out of the pool,
    // as many as there may be leases, so that a guest declining over and over grows nothing.
    private readonly Queue<Ipv6Address> _declined = new();
    private readonly byte[] _reply = new byte[1500];
    private ulong _next;

    /// <summary>No lease expires before this; until then <see cref="Expire"/> looks at none of them.</summary>
    private Instant _nextExpiry = Instant.Never;

    /// <param name="bindings">Where leases are recorded: the switch's (a fresh table when there is no switch, as in tests).</param>
    public Dhcpv6Server(Dhcpv6ServerOptions options, NetworkStack? stack, AddressBindings? bindings = null)
    {
        _options = options;
        _stack = stack;
        _bindings = bindings ?? new AddressBindings();
        if (stack is not null)
        {
            stack.GuestGone += address =>
            {
                if (!address.IsV4)
                {
                    ReleaseGone(address.V6);
                }
            };
        }
        // DUID-LL (RFC 8415 §11.4): type 3, hardware type 1 (Ethernet), the MAC.
        _serverId = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(_serverId, 3);
        BinaryPrimitives.WriteUInt16BigEndian(_serverId.AsSpan(2), 1);
        options.ServerMac.Write(_serverId.AsSpan(4));
        _searchList = DnsSearchList.Encode(options.SearchDomains);
    }

    public bool AcceptsBroadcast => true;

    public Dhcpv6Counters Counters { get; } = new();

    public int LeaseCount => _leases.Count;

    public int DeclinedCount => _declined.Count;

    /// <summary>The counters and the leases held, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        Counters.WriteJson(writer);
        writer.WriteNumber("leases", LeaseCount);
    }

    /// <summary>Keeps <paramref name="address"/> out of the pool and for <paramref name="client"/> alone: the guest configured it statically.</summary>
    public void Reserve(MacAddress client, Ipv6Address address)
    {
        _taken.Add(address);
        _bindings.Reserve(address, client);
    }

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        if (_stack is null || request.Destination.Port != Dhcpv6Message.ServerPort || request.Source.Address.IsV4)
        {
            return;
        }
        int length = Handle(request.Payload, _reply, now, request.SourceMac, request.Link);
        if (length > 0)
        {
            _stack.SendUdp(new IpEndpoint(_stack.Options.GatewayLinkLocal, Dhcpv6Message.ServerPort), request.Source, _reply.AsSpan(0, length));
        }
    }

    /// <summary>Answers one client message from <paramref name="source"/> on <paramref name="link"/>; returns the reply's length, or 0 for none.</summary>
    public int Handle(Span<byte> payload, Span<byte> reply, Instant now, MacAddress source, FrameLink link)
    {
        Counters.Requests++;
        Expire(now);
        if (!Dhcpv6Message.TryParse(payload, out var request) || !request.TryGetOption(Dhcpv6Option.ClientId, out var clientId)
            || clientId.Length is 0 or > 130)
        {
            Counters.Malformed++;
            return 0;
        }
        bool hasServerId = request.TryGetOption(Dhcpv6Option.ServerId, out var serverId);
        if (hasServerId && !serverId.SequenceEqual(_serverId))
        {
            // Addressed to another server (RFC 8415 §16).
            Counters.Ignored++;
            return 0;
        }
        var client = new Client(Convert.ToHexString(clientId), source, link, now);
        if (_owners.TryGetValue(client.Duid, out var owner))
        {
            if (owner.Mac != source)
            {
                if (HoldsLeases(client.Duid))
                {
                    Counters.NotFromClient++;
                    return 0;
                }
                _owners.Remove(client.Duid);
            }
            else if (owner.Link != link)
            {
                // The same VM, reconnected on a new link: its leases count against that one now.
                _owners[client.Duid] = (source, link);
            }
        }
        var type = request.Type;
        Dhcpv6MessageType replyType;
        bool withAddresses = true;
        switch (type)
        {
            case Dhcpv6MessageType.Solicit:
                // With Rapid Commit the Reply binds at once (RFC 8415 §18.3.1).
                replyType = request.TryGetOption(Dhcpv6Option.RapidCommit, out _) ? Dhcpv6MessageType.Reply : Dhcpv6MessageType.Advertise;
                break;
            case Dhcpv6MessageType.Request or Dhcpv6MessageType.Renew or Dhcpv6MessageType.Rebind:
                replyType = Dhcpv6MessageType.Reply;
                break;
            case Dhcpv6MessageType.InformationRequest:
                replyType = Dhcpv6MessageType.Reply;
                withAddresses = false;
                break;
            case Dhcpv6MessageType.Release or Dhcpv6MessageType.Decline:
                Release(client, request.Options, type == Dhcpv6MessageType.Decline);
                return WriteStatusReply(reply, request, clientId, Dhcpv6Status.Success, "released");
            case Dhcpv6MessageType.Confirm:
                return WriteStatusReply(reply, request, clientId, ConfirmStatus(request.Options), "confirm");
            default:
                Counters.Ignored++;
                return 0;
        }
        reply[0] = (byte)replyType;
        payload[1..4].CopyTo(reply[1..4]);
        var writer = new Dhcpv6OptionWriter(reply[Dhcpv6Message.HeaderLength..]);
        writer.Write(Dhcpv6Option.ServerId, _serverId);
        writer.Write(Dhcpv6Option.ClientId, clientId);
        if (replyType == Dhcpv6MessageType.Reply && type == Dhcpv6MessageType.Solicit)
        {
            writer.Write(Dhcpv6Option.RapidCommit, []);
        }
        if (withAddresses)
        {
            // An Advertise only offers: the address is the client's to send from once a Reply binds it.
            WriteAddresses(ref writer, client, request.Options, bind: replyType == Dhcpv6MessageType.Reply);
        }
        WriteDns(ref writer);
        return Finish(writer);
    }

    /// <summary>The reply's length, or 0 (nothing sent) when it did not fit: settings with a long search list, say.</summary>
    private int Finish(in Dhcpv6OptionWriter writer)
    {
        if (writer.Overflowed)
        {
            Counters.TooLarge++;
            return 0;
        }
        Counters.Replies++;
        return Dhcpv6Message.HeaderLength + writer.Length;
    }

    /// <summary>One IA_NA with its address for each IA_NA the client asked about (RFC 8415 §21.4).</summary>
    private void WriteAddresses(ref Dhcpv6OptionWriter writer, in Client client, Span<byte> options, bool bind)
    {
        var reader = new Dhcpv6OptionReader(options);
        uint seconds = (uint)_options.LeaseTime.TotalSeconds;
        Span<byte> bytes = stackalloc byte[16];
        int answered = 0;
        while (reader.MoveNext())
        {
            if (reader.Code != Dhcpv6Option.IaNa || reader.Data.Length < 12)
            {
                continue;
            }
            if (answered == MaxIasPerMessage)
            {
                Counters.IasIgnored++;
                continue;
            }
            answered++;
            uint iaid = BinaryPrimitives.ReadUInt32BigEndian(reader.Data);
            int ia = writer.Open(Dhcpv6Option.IaNa);
            writer.WriteUInt32(iaid);
            writer.WriteUInt32(seconds / 2);
            writer.WriteUInt32(seconds / 5 * 4);
            if (LeaseFor(client, iaid, bind) is { } address)
            {
                if (bind)
                {
                    _bindings.Lease(address, client.Mac, client.Now, client.Now + _options.LeaseTime);
                }
                int entry = writer.Open(Dhcpv6Option.IaAddress);
                address.Write(bytes);
                writer.WriteRaw(bytes);
                writer.WriteUInt32(seconds);
                writer.WriteUInt32(seconds);
                writer.Close(entry);
            }
            else
            {
                Counters.Exhausted++;
                writer.WriteStatus(Dhcpv6Status.NoAddressesAvailable, "no addresses left");
            }
            writer.Close(ia);
        }
    }

    private void WriteDns(ref Dhcpv6OptionWriter writer)
    {
        Span<byte> servers = stackalloc byte[_options.DnsServers.Count * 16];
        for (int i = 0; i < _options.DnsServers.Count; i++)
        {
            _options.DnsServers[i].Write(servers[(i * 16)..]);
        }
        writer.Write(Dhcpv6Option.DnsServers, servers);
        if (_searchList.Length > 0)
        {
            writer.Write(Dhcpv6Option.DomainList, _searchList);
        }
    }

    /// <summary>
    /// The address of the client's IA: the one it holds, else a new one (null when the table or
    /// the link's share is full). <paramref name="bind"/> (a Reply) holds it for the lease time
    /// from now; an Advertise holds a new or only advertised one for <see cref="AdvertiseHold"/>.
    /// </summary>
    private Ipv6Address? LeaseFor(in Client client, uint iaid, bool bind)
    {
        string key = client.Duid + "/" + iaid;
        if (!_leases.TryGetValue(key, out var lease))
        {
            if (NewAddress(client) is not { } address)
            {
                return null;
            }
            lease = new Dhcpv6Lease(address);
            _leases[key] = lease;
            Counters.Leases++;
        }
        if (bind)
        {
            lease.Bound = true;
            lease.Expires = client.Now + _options.LeaseTime;
        }
        else if (!lease.Bound)
        {
            lease.Expires = client.Now + AdvertiseHold;
        }
        _nextExpiry = Instant.Min(_nextExpiry, lease.Expires);
        return lease.Address;
    }

    /// <summary>The next free address of the prefix, or null when the table is full.</summary>
    private Ipv6Address? NewAddress(in Client client)
    {
        if (_leases.Count >= _options.MaxLeases)
        {
            return null;
        }
        if (LeasesOn(client.Link) >= MaxLeasesPerLink)
        {
            Counters.LinkLimit++;
            return null;
        }
        // Addresses go in order from the first guest address, skipping the gateway's and the host's.
        for (int tries = 0; tries < _options.MaxLeases + _options.Excluded.Count + 1; tries++)
        {
            var candidate = new Ipv6Address(_options.FirstAddress.Value + _next++);
            if (!_options.Prefix.Contains(candidate))
            {
                _next = 0;
                continue;
            }
            if (_taken.Contains(candidate) || _options.Excluded.Contains(candidate))
            {
                continue;
            }
            if (_bindings.HolderOf(candidate, client.Now) is { } holder && holder != client.Mac)
            {
                // A guest sends from it already (SLAAC or static): not ours to give.
                Counters.InUse++;
                continue;
            }
            if (!_owners.ContainsKey(client.Duid) && _owners.Count >= _options.MaxLeases)
            {
                PruneOwners();
            }
            _owners[client.Duid] = (client.Mac, client.Link);
            _taken.Add(candidate);
            return candidate;
        }
        return null;
    }

    /// <summary>Ends the leases whose time is up, and frees their addresses.</summary>
    public void Expire(Instant now)
    {
        if (now < _nextExpiry)
        {
            return;
        }
        List<string>? expired = null;
        var next = Instant.Never;
        foreach (var (key, lease) in _leases)
        {
            if (lease.Expires <= now)
            {
                (expired ??= new()).Add(key);
            }
            else
            {
                next = Instant.Min(next, lease.Expires);
            }
        }
        foreach (string key in expired ?? [])
        {
            _leases.Remove(key, out var lease);
            _taken.Remove(lease!.Address);
            Counters.Expired++;
        }
        _nextExpiry = next;
    }

    /// <summary>The guest at <paramref name="address"/> is gone (its link closed): its lease ends now.</summary>
    public void ReleaseGone(Ipv6Address address)
    {
        foreach (var (key, lease) in _leases)
        {
            if (lease.Address == address)
            {
                _leases.Remove(key);
                _taken.Remove(address);
                return;
            }
        }
    }

    private void Release(in Client client, Span<byte> options, bool declined)
    {
        var reader = new Dhcpv6OptionReader(options);
        bool released = false;
        while (reader.MoveNext())
        {
            if (reader.Code == Dhcpv6Option.IaNa && reader.Data.Length >= 12)
            {
                string key = client.Duid + "/" + BinaryPrimitives.ReadUInt32BigEndian(reader.Data);
                if (!_leases.Remove(key, out var lease))
                {
                    continue;
                }
                var address = lease.Address;
                released = true;
                _bindings.EndLease(address, client.Mac);
                if (!declined)
                {
                    _taken.Remove(address);
                    continue;
                }
                // A declined address stays taken: someone else uses it (RFC 8415 §18.3.8).
                if (_declined.Count >= _options.MaxLeases)
                {
                    _taken.Remove(_declined.Dequeue());
                }
                _declined.Enqueue(address);
            }
        }
        if (!released)
        {
            Counters.NotOwner++;
        }
    }

    /// <summary>Whether the client DUID (hex) holds any lease.</summary>
    private bool HoldsLeases(string duid)
    {
        foreach (string key in _leases.Keys)
        {
            if (key.Length > duid.Length && key[duid.Length] == '/' && key.StartsWith(duid, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>How many leases the clients of <paramref name="link"/> hold.</summary>
    private int LeasesOn(FrameLink link)
    {
        var owners = _owners.GetAlternateLookup<ReadOnlySpan<char>>();
        int count = 0;
        foreach (string key in _leases.Keys)
        {
            if (owners.TryGetValue(key.AsSpan(0, key.LastIndexOf('/')), out var owner) && owner.Link == link)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Forgets the DUIDs that hold no lease any more.</summary>
    private void PruneOwners()
    {
        foreach (string duid in _owners.Keys.Where(duid => !HoldsLeases(duid)).ToList())
        {
            _owners.Remove(duid);
        }
    }

    /// <summary>Who a message is from: its DUID (hex), and the MAC and link it came from, at <see cref="Now"/>.</summary>
    private readonly record struct Client(string Duid, MacAddress Mac, FrameLink Link, Instant Now);

    /// <summary>Confirm: are the client's addresses still on this link (RFC 8415 §18.3.3)?</summary>
    private ushort ConfirmStatus(Span<byte> options)
    {
        var reader = new Dhcpv6OptionReader(options);
        while (reader.MoveNext())
        {
            if (reader.Code != Dhcpv6Option.IaNa || reader.Data.Length < 12)
            {
                continue;
            }
            var inner = new Dhcpv6OptionReader(reader.Data[12..]);
            while (inner.MoveNext())
            {
                if (inner.Code == Dhcpv6Option.IaAddress && inner.Data.Length >= 16 && !_options.Prefix.Contains(Ipv6Address.Read(inner.Data)))
                {
                    return Dhcpv6Status.NotOnLink;
                }
            }
        }
        return Dhcpv6Status.Success;
    }

    private int WriteStatusReply(Span<byte> reply, Dhcpv6Message request, ReadOnlySpan<byte> clientId, ushort status, string message)
    {
        reply[0] = (byte)Dhcpv6MessageType.Reply;
        request.Buffer[1..4].CopyTo(reply[1..4]);
        var writer = new Dhcpv6OptionWriter(reply[Dhcpv6Message.HeaderLength..]);
        writer.Write(Dhcpv6Option.ServerId, _serverId);
        writer.Write(Dhcpv6Option.ClientId, clientId);
        writer.WriteStatus(status, message);
        return Finish(writer);
    }
}
