using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// The server's side of a SOCKS5 handshake, up to the request, over bytes as they arrive:
/// Greeting -> Password (with credentials) -> Request -> Decided, or Refused from any of them.
/// It writes the replies that come before the request's; the server decides the request and
/// writes that reply itself. Time is passed in: the whole handshake must be done by its
/// deadline, counted from the accept, so that a client sending a byte now and then (slowloris)
/// is timed out as surely as one that sends nothing.
/// </summary>
internal sealed class Socks5Handshake(SocksCredentials? credentials, Instant deadline)
{
    public Socks5HandshakeState State { get; private set; } = Socks5HandshakeState.Greeting;

    public Instant Deadline { get; } = deadline;

    public SocksRefusal Refusal { get; private set; }

    /// <summary>
    /// Whether the refusal is of the request, which a reply with <see cref="ReplyCodeOf"/> answers;
    /// not so before it (the method or password reply said it) nor for a timeout (just closed).
    /// </summary>
    public bool RequestReplyDue { get; private set; }

    /// <summary>The request's command, once <see cref="Socks5HandshakeOutcome.Request"/>.</summary>
    public byte Command { get; private set; }

    /// <summary>The destination address; null when the client sent a name.</summary>
    public IpAddress? Address { get; private set; }

    /// <summary>The destination name (socks5h), lower case; null when the client sent an address.</summary>
    public string? Name { get; private set; }

    public ushort Port { get; private set; }

    /// <summary>The destination as the client wrote it, for logs.</summary>
    public string Destination => Address is { } address ? new IpEndpoint(address, Port).ToString() : $"{Name}:{Port}";

    /// <summary>
    /// Reads what <paramref name="received"/> holds (every byte not yet consumed). Sets how many
    /// bytes the messages read took (the rest, such as data sent ahead of the reply, stays for
    /// the connection) and writes the replies due into <paramref name="reply"/> (at least 4 bytes).
    /// </summary>
    public Socks5HandshakeOutcome Advance(ReadOnlySpan<byte> received, Span<byte> reply, out int consumed, out int replyLength)
    {
        consumed = 0;
        replyLength = 0;
        while (true)
        {
            var data = received[consumed..];
            int length;
            switch (State)
            {
                case Socks5HandshakeState.Greeting:
                    switch (Socks5Messages.ParseGreeting(data, out length, out bool offersNone, out bool offersPassword))
                    {
                        case Socks5Parse.Incomplete:
                            return Socks5HandshakeOutcome.NeedMore;
                        case Socks5Parse.Complete:
                            break;
                        default:
                            // No method can follow a broken greeting: "no acceptable methods" is the one reply that fits.
                            replyLength = MethodReply(reply, replyLength, Socks5Messages.NoAcceptableMethod);
                            return Refuse(SocksRefusal.Malformed);
                    }
                    consumed += length;
                    if (credentials is null ? !offersNone : !offersPassword)
                    {
                        replyLength = MethodReply(reply, replyLength, Socks5Messages.NoAcceptableMethod);
                        return Refuse(SocksRefusal.NoAcceptableMethod);
                    }
                    replyLength = MethodReply(reply, replyLength, credentials is null ? Socks5Messages.NoAuthentication : Socks5Messages.UsernamePassword);
                    State = credentials is null ? Socks5HandshakeState.Request : Socks5HandshakeState.Password;
                    break;
                case Socks5HandshakeState.Password:
                    switch (Socks5Messages.ParseUsernamePassword(data, out length, out var user, out var password))
                    {
                        case Socks5Parse.Incomplete:
                            return Socks5HandshakeOutcome.NeedMore;
                        case Socks5Parse.Complete:
                            break;
                        default:
                            replyLength = PasswordReply(reply, replyLength, success: false);
                            return Refuse(SocksRefusal.Malformed);
                    }
                    consumed += length;
                    // RFC 1929 §2: a status other than 0 and the server closes the connection.
                    if (!credentials!.Match(user, password))
                    {
                        replyLength = PasswordReply(reply, replyLength, success: false);
                        return Refuse(SocksRefusal.BadCredentials);
                    }
                    replyLength = PasswordReply(reply, replyLength, success: true);
                    State = Socks5HandshakeState.Request;
                    break;
                case Socks5HandshakeState.Request:
                    var parsed = Socks5Messages.ParseRequest(data, out length, out byte command, out var address, out string? name, out ushort port);
                    switch (parsed)
                    {
                        case Socks5Parse.Incomplete:
                            return Socks5HandshakeOutcome.NeedMore;
                        case Socks5Parse.UnknownAddressType:
                            return Refuse(SocksRefusal.UnsupportedAddressType);
                        case Socks5Parse.Malformed:
                            return Refuse(SocksRefusal.Malformed);
                    }
                    consumed += length;
                    Command = command;
                    Address = address;
                    Name = name?.TrimEnd('.').ToLowerInvariant();
                    Port = port;
                    State = Socks5HandshakeState.Decided;
                    return Socks5HandshakeOutcome.Request;
                default:
                    return Socks5HandshakeOutcome.NeedMore;
            }
        }
    }

    /// <summary>Whether the handshake is still waiting for the client at <paramref name="now"/> past its deadline.</summary>
    public bool HasExpired(Instant now) =>
        State is Socks5HandshakeState.Greeting or Socks5HandshakeState.Password or Socks5HandshakeState.Request && now >= Deadline;

    /// <summary>Ends the handshake for a reason found outside it (the deadline, the destination).</summary>
    public void Fail(SocksRefusal refusal)
    {
        RequestReplyDue = refusal != SocksRefusal.TimedOut && State is Socks5HandshakeState.Request or Socks5HandshakeState.Decided;
        State = Socks5HandshakeState.Refused;
        Refusal = refusal;
    }

    /// <summary>
    /// The reply code for a refusal after the greeting (RFC 1928 §6); null where RFC 1928 has
    /// no reply to give (a broken greeting, or a refusal the method reply already carried).
    /// </summary>
    public static byte? ReplyCodeOf(SocksRefusal refusal) => refusal switch
    {
        SocksRefusal.Malformed or SocksRefusal.LimitReached => 1,
        SocksRefusal.NotAllowed => 2,
        SocksRefusal.UnknownName or SocksRefusal.GuestUnreachable => 4,
        SocksRefusal.GuestRefused => 5,
        SocksRefusal.UnsupportedCommand => 7,
        SocksRefusal.UnsupportedAddressType => 8,
        _ => null,
    };

    private Socks5HandshakeOutcome Refuse(SocksRefusal refusal)
    {
        Fail(refusal);
        return Socks5HandshakeOutcome.Refused;
    }

    private static int MethodReply(Span<byte> reply, int at, byte method)
    {
        reply[at] = Socks5Messages.Version;
        reply[at + 1] = method;
        return at + 2;
    }

    private static int PasswordReply(Span<byte> reply, int at, bool success)
    {
        reply[at] = Socks5Messages.PasswordVersion;
        reply[at + 1] = success ? (byte)0 : (byte)1;
        return at + 2;
    }
}
