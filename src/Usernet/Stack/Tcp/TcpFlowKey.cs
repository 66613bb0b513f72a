using Usernet.Wire;

namespace Usernet.Stack.Tcp;

/// <summary>A connection as the guest names it: its own endpoint and the one it talks to.</summary>
internal readonly record struct TcpFlowKey(IpEndpoint Guest, IpEndpoint Remote)
{
    public override string ToString() => $"{Guest} <-> {Remote}";
}
