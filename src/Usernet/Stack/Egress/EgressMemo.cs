using Usernet.Wire;

namespace Usernet.Stack.Egress;

/// <summary>
/// The last egress decision of a flow that can send to many destinations (a UDP socket, an
/// echo identifier): while the destination and the policy stay the same, the datagrams after
/// the first are not matched again, and the verdict is counted once. A reload makes a new
/// policy, so the next datagram is decided under it.
/// </summary>
internal struct EgressMemo
{
    private EgressPolicy? _policy;
    private IpEndpoint _destination;

    public EgressDecision Decision { get; private set; }

    public readonly bool Recalls(EgressPolicy policy, IpEndpoint destination) =>
        ReferenceEquals(_policy, policy) && _destination == destination;

    public void Remember(EgressPolicy policy, IpEndpoint destination, EgressDecision decision)
    {
        _policy = policy;
        _destination = destination;
        Decision = decision;
    }
}
