using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// Opens <see cref="FakeTcpHostSocket"/>s and records each attempt; the test completes or
/// fails a connect by raising the socket's events, as the loop would when the kernel answers.
/// </summary>
internal sealed class FakeTcpConnector : ITcpHostConnector
{
    /// <summary>One Connect call; <see cref="Socket"/> is null when it failed at once.</summary>
    public sealed record Attempt(TcpFlowKey Flow, IpEndpoint Destination, ITcpHostEvents Events, FakeTcpHostSocket? Socket);

    public List<Attempt> Attempts { get; } = new();

    /// <summary>When set, every Connect fails at once with this error.</summary>
    public TcpHostError? FailAtOnce { get; set; }

    /// <summary>The gateway ports Usernet serves itself.</summary>
    public HashSet<ushort> GatewayPorts { get; } = new();

    public ITcpHostSocket? Connect(TcpFlowKey flow, IpEndpoint destination, ITcpHostEvents events, out TcpHostError error)
    {
        if (FailAtOnce is { } failure)
        {
            Attempts.Add(new Attempt(flow, destination, events, null));
            error = failure;
            return null;
        }
        var socket = new FakeTcpHostSocket(events);
        Attempts.Add(new Attempt(flow, destination, events, socket));
        error = TcpHostError.None;
        return socket;
    }

    public bool ServesGatewayPort(ushort port) => GatewayPorts.Contains(port);
}
