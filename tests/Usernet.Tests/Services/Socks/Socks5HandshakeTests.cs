using Usernet.Services.Socks;
using Usernet.Wire;

namespace Usernet.Tests.Services.Socks;

/// <summary>The server's handshake over bytes as they arrive, with explicit time.</summary>
public sealed class Socks5HandshakeTests
{
    private static readonly Instant Start = Instant.Zero + TimeSpan.FromSeconds(100);
    private static readonly Instant Deadline = Start + TimeSpan.FromSeconds(10);

    private static readonly byte[] Request = Socks5Messages.Connect("192.168.65.3", 80)!;

    /// <summary>The handshake fed like a socket: everything not yet consumed, each time more arrives.</summary>
    private sealed class Client(SocksCredentials? credentials = null)
    {
        private readonly List<byte> _pending = new();

        public Socks5Handshake Handshake { get; } = new(credentials, Deadline);

        public List<byte> Replies { get; } = new();

        public Socks5HandshakeOutcome Send(params byte[] bytes)
        {
            _pending.AddRange(bytes);
            byte[] reply = new byte[16];
            var outcome = Handshake.Advance(_pending.ToArray(), reply, out int consumed, out int length);
            _pending.RemoveRange(0, consumed);
            Replies.AddRange(reply[..length]);
            return outcome;
        }

        public byte[] Left => _pending.ToArray();
    }

    [Fact]
    public void WithoutCredentialsAConnectIsReadAndTheDataSentAheadIsLeft()
    {
        var client = new Client();
        Assert.Equal(Socks5HandshakeOutcome.Request, client.Send([.. Socks5Messages.Greeting(false), .. Request, .. "GET /"u8]));
        Assert.Equal(new byte[] { 5, 0 }, client.Replies);
        Assert.Equal("GET /"u8.ToArray(), client.Left);
        Assert.Equal(Socks5HandshakeState.Decided, client.Handshake.State);
        Assert.Equal(Socks5Messages.CommandConnect, client.Handshake.Command);
        Assert.Equal(IpAddress.Parse("192.168.65.3"), client.Handshake.Address);
        Assert.Equal(80, client.Handshake.Port);
        Assert.Equal("192.168.65.3:80", client.Handshake.Destination);
    }

    [Fact]
    public void AHandshakeArrivingAByteAtATimeIsReadWhole()
    {
        var client = new Client(new SocksCredentials("alice", "secret"));
        byte[] all = [.. Socks5Messages.Greeting(true), .. Socks5Messages.UsernamePasswordRequest("alice", "secret")!, .. Socks5Messages.Connect("Web.Docker.Internal.", 443)!];
        for (int i = 0; i < all.Length - 1; i++)
        {
            Assert.Equal(Socks5HandshakeOutcome.NeedMore, client.Send(all[i]));
        }
        Assert.Equal(Socks5HandshakeOutcome.Request, client.Send(all[^1]));
        Assert.Equal(new byte[] { 5, 2, 1, 0 }, client.Replies);
        Assert.Null(client.Handshake.Address);
        Assert.Equal("web.docker.internal", client.Handshake.Name);
        Assert.Empty(client.Left);
    }

    [Fact]
    public void WrongCredentialsGetAFailureStatusAndNoRequestIsRead()
    {
        var client = new Client(new SocksCredentials("alice", "secret"));
        var outcome = client.Send([.. Socks5Messages.Greeting(true), .. Socks5Messages.UsernamePasswordRequest("alice", "guess")!, .. Request]);
        Assert.Equal(Socks5HandshakeOutcome.Refused, outcome);
        Assert.Equal(SocksRefusal.BadCredentials, client.Handshake.Refusal);
        Assert.Equal(new byte[] { 5, 2, 1, 1 }, client.Replies);
        Assert.False(client.Handshake.RequestReplyDue);
    }

    [Fact]
    public void AClientWithoutCredentialsIsToldNoMethodIsAcceptable()
    {
        var client = new Client(new SocksCredentials("alice", "secret"));
        Assert.Equal(Socks5HandshakeOutcome.Refused, client.Send(Socks5Messages.Greeting(false)));
        Assert.Equal(SocksRefusal.NoAcceptableMethod, client.Handshake.Refusal);
        Assert.Equal(new byte[] { 5, 0xFF }, client.Replies);
    }

    [Fact]
    public void WithoutCredentialsOnlyPasswordOfferedIsNotAcceptable()
    {
        var client = new Client();
        Assert.Equal(Socks5HandshakeOutcome.Refused, client.Send(5, 1, 2));
        Assert.Equal(new byte[] { 5, 0xFF }, client.Replies);
    }

    [Theory]
    [InlineData(new byte[] { 4, 1, 0, 80, 192, 168, 65, 3, 0 })]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ' })]
    [InlineData(new byte[] { 5, 0 })]
    public void AMalformedGreetingIsRefusedWithNoAcceptableMethod(byte[] greeting)
    {
        var client = new Client();
        Assert.Equal(Socks5HandshakeOutcome.Refused, client.Send(greeting));
        Assert.Equal(SocksRefusal.Malformed, client.Handshake.Refusal);
        Assert.Equal(new byte[] { 5, 0xFF }, client.Replies);
        Assert.False(client.Handshake.RequestReplyDue);
    }

    [Fact]
    public void AMalformedOrUnknownRequestIsRefusedWithItsCode()
    {
        var malformed = new Client();
        Assert.Equal(Socks5HandshakeOutcome.Refused, malformed.Send([5, 1, 0, 5, 1, 1, 0, 1, 1, 2, 3, 4, 0, 80]));
        Assert.True(malformed.Handshake.RequestReplyDue);
        Assert.Equal((byte)1, Socks5Handshake.ReplyCodeOf(malformed.Handshake.Refusal));

        var unknownType = new Client();
        Assert.Equal(Socks5HandshakeOutcome.Refused, unknownType.Send([5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80]));
        Assert.Equal(SocksRefusal.UnsupportedAddressType, unknownType.Handshake.Refusal);
        Assert.Equal((byte)8, Socks5Handshake.ReplyCodeOf(unknownType.Handshake.Refusal));
    }

    [Fact]
    public void AHalfGreetingExpiresAtTheDeadlineAndNotBefore()
    {
        var client = new Client();
        Assert.Equal(Socks5HandshakeOutcome.NeedMore, client.Send(5));
        Assert.False(client.Handshake.HasExpired(Start));
        Assert.False(client.Handshake.HasExpired(Start + TimeSpan.FromMilliseconds(9999)));
        Assert.True(client.Handshake.HasExpired(Deadline));
    }

    [Fact]
    public void ASlowlorisThatKeepsSendingStillExpiresAtTheDeadline()
    {
        // A byte every second would reset an idle timer forever; the deadline is counted from the accept.
        var client = new Client(new SocksCredentials("alice", new string('p', 200)));
        byte[] all = [.. Socks5Messages.Greeting(true), .. Socks5Messages.UsernamePasswordRequest("alice", new string('p', 200))!];
        var now = Start;
        int sent = 0;
        while (!client.Handshake.HasExpired(now))
        {
            Assert.Equal(Socks5HandshakeOutcome.NeedMore, client.Send(all[sent++]));
            now += TimeSpan.FromSeconds(1);
        }
        Assert.Equal(10, sent);
        Assert.Equal(Socks5HandshakeState.Password, client.Handshake.State);
        client.Handshake.Fail(SocksRefusal.TimedOut);
        Assert.False(client.Handshake.RequestReplyDue);
        Assert.False(client.Handshake.HasExpired(now));
    }

    [Fact]
    public void ADecidedHandshakeDoesNotExpire()
    {
        var client = new Client();
        client.Send([.. Socks5Messages.Greeting(false), .. Request]);
        Assert.False(client.Handshake.HasExpired(Deadline + TimeSpan.FromHours(1)));
        client.Handshake.Fail(SocksRefusal.NotAllowed);
        Assert.True(client.Handshake.RequestReplyDue);
        Assert.Equal((byte)2, Socks5Handshake.ReplyCodeOf(SocksRefusal.NotAllowed));
    }

    [Theory]
    [InlineData((int)SocksRefusal.NotAllowed, 2)]
    [InlineData((int)SocksRefusal.UnknownName, 4)]
    [InlineData((int)SocksRefusal.GuestUnreachable, 4)]
    [InlineData((int)SocksRefusal.GuestRefused, 5)]
    [InlineData((int)SocksRefusal.UnsupportedCommand, 7)]
    [InlineData((int)SocksRefusal.UnsupportedAddressType, 8)]
    [InlineData((int)SocksRefusal.LimitReached, 1)]
    public void EachRefusalOfARequestHasTheCodeOfRfc1928(int refusal, byte code) =>
        Assert.Equal(code, Socks5Handshake.ReplyCodeOf((SocksRefusal)refusal));
}
