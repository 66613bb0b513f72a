using Usernet.Wire;

namespace Usernet.Stack.Tcp;

/// <summary>
/// A connection as the guest names it: its own endpoint and the one it talks to, on the link
/// (<see cref="Link.FrameLink.Id"/>) it is behind. With the link in the key, guests on two links
/// that use the same address and port never share a connection, even were the switch's address
/// binding to let one through.
/// </summary>
internal readonly record struct TcpFlowKey(IpEndpoint Guest, IpEndpoint Remote, int LinkId)
{
    public override string ToString() => $"{Guest} <-> {Remote}";
}
