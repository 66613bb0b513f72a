using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Fuzz.Fakes;

/// <summary>Opens <see cref="FakeTcpSocket"/>s for the TCP engine; the input completes or fails each connect.</summary>
internal sealed class FakeTcpConnector : ITcpHostConnector
{
    public List<FakeTcpSocket> Sockets { get; } = new();

    /// <summary>Set by the input: the next connect fails at once.</summary>
    public TcpHostError FailNext { get; set; }

    public ITcpHostSocket? Connect(TcpFlowKey flow, IpEndpoint destination, ITcpHostEvents events, out TcpHostError error)
    {
        error = FailNext;
        FailNext = TcpHostError.None;
        if (error != TcpHostError.None)
        {
            return null;
        }
        var socket = new FakeTcpSocket(events);
        Sockets.Add(socket);
        return socket;
    }

    // DNS and the proxy on the gateway are Usernet's own, as in an instance.
    public bool ServesGatewayPort(ushort port) => port is 53 or 3128;
}
