using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Stack.Icmp;

/// <summary>One guest (address, echo identifier) and its host ICMP socket.</summary>
internal sealed class EchoFlow : IHostDatagramEvents
{
    private readonly IcmpEchoNat _nat;

    public EchoFlow(IcmpEchoNat nat, IpAddress guest, ushort id, int linkId, FlowRecord record)
    {
        _nat = nat;
        Guest = guest;
        Id = id;
        LinkId = linkId;
        Record = record;
    }

    /// <summary>What the flow carried, for the flow log; the echo identifier stands as the guest's port.</summary>
    public FlowRecord Record { get; }

    /// <summary>The link the guest is behind, part of the flow's key.</summary>
    public int LinkId { get; }

    public IpAddress Guest { get; }

    public ushort Id { get; }

    public IHostDatagramSocket? Socket { get; set; }

    /// <summary>The egress policy's last decision for this identifier's echo requests.</summary>
    public global::Usernet.Stack.Egress.EgressMemo Egress { get; set; }

    public Span<byte> ReceiveBuffer => _nat.ReceiveBuffer(this);

    public void OnHostDatagram(IpEndpoint source, int length, Instant now)
    {
        _nat.Touch(this, now);
        _nat.DeliverReply(this, source.Address, length);
    }

    public void OnHostIcmpError(in HostIcmpError error, Instant now) => _nat.RelayError(this, error, now);
}
