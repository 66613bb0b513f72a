using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// A guest TCP connection as the gateway service serving it sees it from the thread pool (see
/// <see cref="GatewayTcpServices"/>). Closing the service's socket ends the guest's connection
/// with FIN, or with RST only if guest bytes were left unread; <see cref="ResetAsync"/> ends it
/// with RST whatever was read, for a connection that must not end like a clean, empty answer
/// (a blocked tunnel, a tunnel whose far end failed or was reset).
/// </summary>
internal sealed class GuestConnection(EventLoop loop, IpEndpoint guest)
{
    /// <summary>The stack's end of the socket pair; set and read on the loop thread only, so no lock.</summary>
    private HostTcpSocket? _stackEnd;

    /// <summary>The guest's address and port.</summary>
    public IpEndpoint Guest => guest;

    /// <summary>
    /// On the loop thread, right after the pair is made: the service may already be running,
    /// but what it posts runs on this thread after the current event, so after this.
    /// </summary>
    internal void Attach(HostTcpSocket stackEnd) => _stackEnd = stackEnd;

    /// <summary>
    /// Resets the guest's connection: the stack sends RST (or, before its SYN-ACK, refuses the
    /// SYN). Completes once done on the loop, so that the service's socket may be closed after
    /// it without that close turning into a FIN first. Safe from any thread, and harmless on a
    /// connection that has ended.
    /// </summary>
    public Task ResetAsync() => loop.InvokeAsync(now =>
    {
        _stackEnd?.ResetFromService(now);
        return true;
    });
}
