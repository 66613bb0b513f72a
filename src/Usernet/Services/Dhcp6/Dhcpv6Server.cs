using System.Buffers.Binary;
using System.Text.Json;
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

    /// <summary>IA_NA options past <see cref="Dhcpv6Server.MaxIasPerMessage"/> in one message, left unanswered.</summary>
    public long IasIgnored;

    /// <summary>Replies that did not fit their buffer and were not sent.</summary>
    public long TooLarge;

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("requests", Requests);
        writer.WriteNumber("replies", Replies);
        writer.WriteNumber("malformed", Malformed);
        writer.WriteNumber("exhausted", Exhausted);
        writer.WriteNumber("iasIgnored", IasIgnored);
        writer.WriteNumber("tooLarge", TooLarge);
    }
}

/// <summary>
/// DHCPv6 on the gateway (RFC 8415): stateful addresses from the prefix (IA_NA), and DNS servers
/// and search list (RFC 3646) for stateful and stateless (Information-request) clients alike.
/// Addresses are kept per client DUID and IAID, within a bounded pool; the protocol logic is the
/// pure <see cref="Handle"/>.
/// </summary>
internal sealed class Dhcpv6Server : IUdpService
{
    /// <summary>
    /// IA_NA options answered per message. A client has one per interface, rarely more; each
    /// takes an address and 44 bytes of the reply, so a message with hundreds must neither
    /// drain the pool nor outgrow the reply.
    /// </summary>
    public const int MaxIasPerMessage = 8;

    private readonly Dhcpv6ServerOptions _options;
    private readonly NetworkStack? _stack;
    private readonly byte[] _serverId;
    private readonly byte[] _searchList;
    private readonly Dictionary<string, Ipv6Address> _leases = new();
    private readonly HashSet<Ipv6Address> _taken = new();

    // Addresses clients declined as in use by someone else, oldest first: held out of the pool,
    // as many as there may be leases, so that a guest declining over and over grows nothing.
    private readonly Queue<Ipv6Address> _declined = new();
    private readonly byte[] _reply = new byte[1500];
    private ulong _next;

    public Dhcpv6Server(Dhcpv6ServerOptions options, NetworkStack? stack)
    {
        _options = options;
        _stack = stack;
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

    /// <summary>Keeps <paramref name="address"/> out of the pool: a guest configured it statically.</summary>
    public void Reserve(Ipv6Address address) => _taken.Add(address);

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        if (_stack is null || request.Destination.Port != Dhcpv6Message.ServerPort || request.Source.Address.IsV4)
        {
            return;
        }
        int length = Handle(request.Payload, _reply);
        if (length > 0)
        {
            _stack.SendUdp(new IpEndpoint(_stack.Options.GatewayLinkLocal, Dhcpv6Message.ServerPort), request.Source, _reply.AsSpan(0, length));
        }
    }

    /// <summary>Answers one client message; returns the reply's length, or 0 for none.</summary>
    public int Handle(Span<byte> payload, Span<byte> reply)
    {
        Counters.Requests++;
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
        var type = request.Type;
        Dhcpv6MessageType replyType;
        bool withAddresses = true;
        switch (type)
        {
            case Dhcpv6MessageType.Solicit:
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
                Release(clientId, request.Options, type == Dhcpv6MessageType.Decline);
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
            WriteAddresses(ref writer, clientId, request.Options);
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
    private void WriteAddresses(ref Dhcpv6OptionWriter writer, ReadOnlySpan<byte> clientId, Span<byte> options)
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
            if (LeaseFor(clientId, iaid) is { } address)
            {
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

    private Ipv6Address? LeaseFor(ReadOnlySpan<byte> clientId, uint iaid)
    {
        string key = Convert.ToHexString(clientId) + "/" + iaid;
        if (_leases.TryGetValue(key, out var address))
        {
            return address;
        }
        if (_leases.Count >= _options.MaxLeases)
        {
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
            _leases[key] = candidate;
            _taken.Add(candidate);
            Counters.Leases++;
            return candidate;
        }
        return null;
    }

    private void Release(ReadOnlySpan<byte> clientId, Span<byte> options, bool declined)
    {
        var reader = new Dhcpv6OptionReader(options);
        while (reader.MoveNext())
        {
            if (reader.Code == Dhcpv6Option.IaNa && reader.Data.Length >= 12)
            {
                string key = Convert.ToHexString(clientId) + "/" + BinaryPrimitives.ReadUInt32BigEndian(reader.Data);
                if (!_leases.Remove(key, out var address))
                {
                    continue;
                }
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
    }

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
