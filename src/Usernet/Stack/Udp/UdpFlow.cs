using Usernet.Wire;

namespace Usernet.Stack.Udp;

/// <summary>
/// One guest (address, port) and the host socket that speaks for it: datagrams to any
/// destination leave through the socket, and every reply comes back to the guest from its
/// true source (RFC 4787's endpoint-independent mapping, so NAT traversal works).
/// </summary>
internal sealed class UdpFlow : IHostDatagramEvents
{
    private readonly UdpNat _nat;

    public UdpFlow(UdpNat nat, IpEndpoint guest, int linkId, FlowRecord record)
    {
        _nat = nat;
        Guest = guest;
        LinkId = linkId;
        Record = record;
    }

    /// <summary>What the flow carried, for the flow log.</summary>
    public FlowRecord Record { get; }

    public IpEndpoint Guest { get; }

    /// <summary>The link the guest is behind, part of the flow's key.</summary>
    public int LinkId { get; }

    public IHostDatagramSocket? Socket { get; set; }

    /// <summary>The egress policy's last decision for this socket's datagrams.</summary>
    public global::Usernet.Stack.Egress.EgressMemo Egress { get; set; }

    public Span<byte> ReceiveBuffer => _nat.ReceiveBuffer(this);

    public void OnHostDatagram(IpEndpoint source, int length, Instant now)
    {
        _nat.Touch(this, now);
        _nat.DeliverToGuest(this, source, length);
    }

    public void OnHostIcmpError(in HostIcmpError error, Instant now) => _nat.RelayIcmpError(this, error, now);
}
