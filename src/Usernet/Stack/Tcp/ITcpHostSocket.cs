namespace Usernet.Stack.Tcp;

/// <summary>Why a host connection failed or ended, as the TCP engine needs to know it.</summary>
internal enum TcpHostError
{
    None,
    Refused,
    NetUnreachable,
    HostUnreachable,
    TimedOut,
    Reset,
    Other,
}

/// <summary>
/// The host side of a guest connection: a connected stream socket whose received data stays
/// in the kernel until the guest acknowledges it (the translating design pasta uses). The
/// TCP engine reads ahead with <see cref="Peek"/>, drops what the guest acknowledged with
/// <see cref="Discard"/>, and writes guest data straight from the frame it arrived in.
/// </summary>
internal interface ITcpHostSocket
{
    /// <summary>Peek result: no data at that offset yet.</summary>
    public const int WouldBlock = -1;

    /// <summary>Peek or write result: the socket failed; see <see cref="Error"/>.</summary>
    public const int Failed = -2;

    /// <summary>
    /// Copies data starting <paramref name="offset"/> bytes after the oldest byte not yet
    /// discarded. Returns the count, 0 at end of stream, <see cref="WouldBlock"/> or <see cref="Failed"/>.
    /// </summary>
    int Peek(int offset, Span<byte> destination);

    /// <summary>
    /// Whether the stream is known to end at <paramref name="offset"/>: the host peer's FIN had
    /// arrived when a peek that ended there came back short, so the next peek would find end of
    /// stream. The engine then sends FIN with the last data, in one segment.
    /// </summary>
    bool EndsAt(int offset);

    /// <summary>Drops the oldest <paramref name="count"/> bytes: the guest has them.</summary>
    void Discard(int count);

    /// <summary>Writes guest data; returns how much the socket took (0 when full) or <see cref="Failed"/>.</summary>
    int Write(ReadOnlySpan<byte> data);

    /// <summary>About how many more bytes <see cref="Write"/> would take now.</summary>
    int WritableSpace { get; }

    /// <summary>Why the socket failed, once it has.</summary>
    TcpHostError Error { get; }

    /// <summary>
    /// The guest answered with SYN-ACK the SYN of a connection opened into it (a published
    /// port, the SOCKS server): before anything of the connection is peeked or written, so a
    /// socket can first tell its client that the connection is open.
    /// </summary>
    void OnGuestAccepted(Instant now);

    /// <summary>Sends FIN to the host peer: the guest will write no more.</summary>
    void ShutdownWrite();

    /// <summary>Closes the socket; with <paramref name="reset"/> the host peer sees RST.</summary>
    void Close(bool reset);
}

/// <summary>What the host socket tells its connection, on the loop thread.</summary>
internal interface ITcpHostEvents
{
    void OnHostConnected(Instant now);

    void OnHostConnectFailed(TcpHostError error, Instant now);

    /// <summary>New data or end of stream may be there to peek.</summary>
    void OnHostReadable(Instant now);

    /// <summary>The send buffer had been full and has room again.</summary>
    void OnHostWritable(Instant now);

    void OnHostFailed(TcpHostError error, Instant now);
}

/// <summary>Opens host sockets for guest connections.</summary>
internal interface ITcpHostConnector
{
    /// <summary>
    /// Starts a non-blocking connect to <paramref name="destination"/> for the guest connection
    /// <paramref name="flow"/>; the outcome arrives through <paramref name="events"/>. Returns
    /// null when it fails at once.
    /// </summary>
    ITcpHostSocket? Connect(TcpFlowKey flow, Wire.IpEndpoint destination, ITcpHostEvents events, out TcpHostError error);

    /// <summary>Whether Usernet itself serves this TCP port on the gateway (DNS, the HTTP proxy).</summary>
    bool ServesGatewayPort(ushort port);
}
