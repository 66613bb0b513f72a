using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// What one flow carried, for the flow log: made when the flow opens (TCP SYN, first UDP
/// datagram, first echo request), counted into with a few increments per packet, and handed to
/// <see cref="NetworkStack.FlowEnded"/> once, when the flow ends. Endpoints are as the guest sees
/// them. A UDP or echo flow is one guest socket, which may talk to several destinations:
/// <see cref="Remote"/> is the first. Used on the loop thread only.
/// </summary>
internal sealed class FlowRecord(byte protocol, int linkId, IpEndpoint guest, IpEndpoint remote, bool inbound, Instant started)
{
    /// <summary><see cref="IpProtocol.Tcp"/>, <see cref="IpProtocol.Udp"/>, or <see cref="IpProtocol.Icmp"/> for echo of either family.</summary>
    public byte Protocol { get; } = protocol;

    public int LinkId { get; } = linkId;

    public IpEndpoint Guest { get; } = guest;

    public IpEndpoint Remote { get; } = remote;

    /// <summary>Opened towards the guest by a client of a published port, not by the guest.</summary>
    public bool Inbound { get; } = inbound;

    public Instant Started { get; } = started;

    /// <summary>
    /// The egress policy's verdict on the flow, set where it is decided (the SYN, the first
    /// datagram or echo request, for <see cref="Remote"/>): null for flows the policy does not
    /// cover (inbound, to the gateway's own services). With no egress section every flow out
    /// is the default's allow.
    /// </summary>
    public EgressDecision? Egress;

    public long BytesFromGuest;
    public long BytesToGuest;
    public long PacketsFromGuest;
    public long PacketsToGuest;
}
