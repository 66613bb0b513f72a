using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>What <see cref="SourceGuard"/> decided about a guest's frame.</summary>
internal enum GuardVerdict
{
    Pass,

    /// <summary>From a group or all-zero MAC, which no NIC sends from (IEEE 802 §8.2).</summary>
    BadSourceMac,

    /// <summary>From a MAC another link owns, or the stack's; or ARP or NDP naming a MAC other than the frame's.</summary>
    MacSpoofed,

    /// <summary>From a new MAC while the MAC table is full.</summary>
    MacTableFull,

    /// <summary>From (or advertising) an address another MAC holds, or one of the stack's.</summary>
    AddressSpoofed,

    /// <summary>From a free address while the binding table is full.</summary>
    AddressTableFull,

    /// <summary>A router advertisement or redirect: only the gateway is a router here.</summary>
    RouterMessage,

    /// <summary>A DHCP or DHCPv6 server (or relay) message: only the gateway serves DHCP here.</summary>
    DhcpServerMessage,

    /// <summary>IPv6 whose upper-layer header cannot be found in the frame, so the other checks cannot be made.</summary>
    Unverifiable,
}

/// <summary>
/// Keeps one guest on the LAN from passing itself off as another, or as the gateway. Every
/// frame a guest sends, to the stack or to other guests, is checked here first:
/// <list type="bullet">
/// <item>its source MAC must be the link's own (<see cref="MacTable"/>);</item>
/// <item>the address it sends from (IPv4 and IPv6 source, ARP sender, the target a neighbor
/// advertisement claims) must be free or held by that MAC (<see cref="AddressBindings"/>); the
/// gateway's and host's addresses are the stack's alone;</item>
/// <item>ARP and NDP must name the frame's own MAC as the sender's link-layer address;</item>
/// <item>it must not be a router advertisement or redirect (RA guard, RFC 6105), nor a DHCP or
/// DHCPv6 server message (DHCP snooping): no guest becomes another's router or DHCP server.</item>
/// </list>
/// What it needs to read it reads in place; a frame too broken to read (say, a truncated IPv4
/// header) goes on to the stack, which drops and counts it, as a guest's kernel would. Addresses
/// outside the LAN (the stack says which are on it) are not bound: a guest may route for others.
/// Duplicate address detection works: a solicitation from the unspecified address claims
/// nothing, and the holder's answer passes.
/// </summary>
internal sealed class SourceGuard(MacTable macs, AddressBindings addresses)
{
    /// <summary>The stack's side of the switch: its MAC, its addresses, and which addresses are on the LAN.</summary>
    public ISwitchPort? Stack { get; set; }

    private long _macsEvicted;
    private long _addressesEvicted;

    /// <summary>MACs a link had to give up for new ones (it owned <see cref="MacTable.PerLink"/>).</summary>
    public long MacsEvicted => _macsEvicted;

    /// <summary>First-use addresses a link had to give up for new ones.</summary>
    public long AddressesEvicted => _addressesEvicted;

    public GuardVerdict Check(EthernetFrame ethernet, FrameLink link, Instant now)
    {
        var source = ethernet.Source;
        if (!source.IsUnicast)
        {
            return GuardVerdict.BadSourceMac;
        }
        if (source == Stack?.Mac)
        {
            return GuardVerdict.MacSpoofed;
        }
        if (Judge(macs.Learn(source, link, now), GuardVerdict.MacSpoofed, GuardVerdict.MacTableFull, ref _macsEvicted) is var verdict
            and not GuardVerdict.Pass)
        {
            return verdict;
        }
        return ethernet.EtherType switch
        {
            EtherType.Arp => CheckArp(ethernet.Payload, source, link, now),
            EtherType.Ipv4 => CheckIpv4(ethernet.Payload, source, link, now),
            EtherType.Ipv6 => CheckIpv6(ethernet.Payload, source, link, now),
            _ => GuardVerdict.Pass,
        };
    }

    /// <summary>The sender of a request or reply, gratuitous or not, claims its address; a probe (RFC 5227 §2.1.1, sender 0.0.0.0) claims none.</summary>
    private GuardVerdict CheckArp(Span<byte> payload, MacAddress source, FrameLink link, Instant now)
    {
        if (!ArpPacket.TryParse(payload, out var arp))
        {
            return GuardVerdict.Pass;
        }
        if (arp.SenderHardware != source)
        {
            return GuardVerdict.MacSpoofed;
        }
        var sender = arp.SenderProtocol;
        return sender.IsUnspecified ? GuardVerdict.Pass : Claim(sender, source, link, now);
    }

    private GuardVerdict CheckIpv4(Span<byte> payload, MacAddress source, FrameLink link, Instant now)
    {
        if (payload.Length < Ipv4Packet.MinHeaderLength || payload[0] >> 4 != 4)
        {
            return GuardVerdict.Pass;
        }
        var ip = new Ipv4Packet(payload);
        int headerLength = ip.HeaderLength;
        if (headerLength < Ipv4Packet.MinHeaderLength || headerLength > payload.Length)
        {
            return GuardVerdict.Pass;
        }
        // 0.0.0.0 is a DHCP client without an address yet.
        if (!ip.Source.IsUnspecified && Claim(ip.Source, source, link, now) is var verdict and not GuardVerdict.Pass)
        {
            return verdict;
        }
        if (ip.Protocol == IpProtocol.Udp && ip.FragmentOffset == 0 && payload.Length >= headerLength + 4
            && IsServerSide(payload[headerLength..], DhcpMessage.ServerPort, DhcpMessage.ClientPort))
        {
            return GuardVerdict.DhcpServerMessage;
        }
        return GuardVerdict.Pass;
    }

    private GuardVerdict CheckIpv6(Span<byte> payload, MacAddress source, FrameLink link, Instant now)
    {
        if (Ipv6Packet.TryParse(payload, out var ip) != Ipv6ParseError.None)
        {
            return GuardVerdict.Pass;
        }
        // :: is a node without an address yet (duplicate address detection, RFC 4862 §5.4).
        if (!ip.Source.IsUnspecified && Claim(ip.Source, source, link, now) is var verdict and not GuardVerdict.Pass)
        {
            return verdict;
        }
        if (!ip.TryFindUpperLayer(out byte protocol, out int offset, out var fragment))
        {
            // An RA can hide behind a chain of extension headers (RFC 7113 §3): what cannot be
            // read cannot be let through.
            return GuardVerdict.Unverifiable;
        }
        if (fragment is { Offset: not 0 })
        {
            return GuardVerdict.Pass;
        }
        var upper = ip.Buffer[offset..];
        if (protocol == IpProtocol.Udp && upper.Length >= 4 && IsServerSide(upper, Dhcpv6Message.ServerPort, Dhcpv6Message.ClientPort))
        {
            return GuardVerdict.DhcpServerMessage;
        }
        if (protocol != IpProtocol.Icmpv6 || upper.Length < Icmpv6Message.HeaderLength)
        {
            return GuardVerdict.Pass;
        }
        byte type = upper[0];
        return type switch
        {
            Icmpv6Type.RouterAdvertisement or Icmpv6Type.Redirect => GuardVerdict.RouterMessage,
            Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement or Icmpv6Type.RouterSolicitation =>
                CheckNdp(upper, type, source, link, now),
            _ => GuardVerdict.Pass,
        };
    }

    /// <summary>A neighbor advertisement claims its target; NDP's link-layer address options must be the frame's MAC.</summary>
    private GuardVerdict CheckNdp(Span<byte> message, byte type, MacAddress source, FrameLink link, Instant now)
    {
        if (!NdpMessage.TryReadOptions(message, type, out var linkLayer))
        {
            // Malformed: every receiver drops it (RFC 4861 §7.1).
            return GuardVerdict.Pass;
        }
        if (linkLayer is { } named && named != source)
        {
            return GuardVerdict.MacSpoofed;
        }
        if (type != Icmpv6Type.NeighborAdvertisement)
        {
            return GuardVerdict.Pass;
        }
        var target = NdpMessage.Target(message);
        return target.IsMulticast ? GuardVerdict.Pass : Claim(target, source, link, now);
    }

    private GuardVerdict Claim(IpAddress address, MacAddress source, FrameLink link, Instant now)
    {
        if (Stack is { } stack)
        {
            if (stack.IsOwnAddress(address))
            {
                return GuardVerdict.AddressSpoofed;
            }
            if (!stack.IsLanAddress(address))
            {
                return GuardVerdict.Pass;
            }
        }
        return Judge(addresses.Claim(address, source, link, now), GuardVerdict.AddressSpoofed, GuardVerdict.AddressTableFull, ref _addressesEvicted);
    }

    /// <summary>The verdict on what a binding table made of the frame's MAC or address; counts a link giving one up.</summary>
    private static GuardVerdict Judge(BindResult result, GuardVerdict taken, GuardVerdict full, ref long evicted)
    {
        switch (result)
        {
            case BindResult.Taken:
                return taken;
            case BindResult.Full:
                return full;
            case BindResult.BoundEvicting:
                evicted++;
                break;
        }
        return GuardVerdict.Pass;
    }

    /// <summary>UDP from a server's port or to a client's: what a DHCP server or relay sends, and a guest may not.</summary>
    private static bool IsServerSide(ReadOnlySpan<byte> udp, int serverPort, int clientPort) =>
        BinaryPrimitives.ReadUInt16BigEndian(udp) == serverPort || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) == clientPort;
}
