using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Socks5MessagesTests
{
    [Fact]
    public void TheGreetingOffersUsernamePasswordOnlyWithCredentials()
    {
        Assert.Equal(new byte[] { 5, 1, 0 }, Socks5Messages.Greeting(false));
        Assert.Equal(new byte[] { 5, 2, 0, 2 }, Socks5Messages.Greeting(true));
    }

    [Fact]
    public void Rfc1929RequestCarriesLengths() =>
        Assert.Equal(new byte[] { 1, 5, (byte)'a', (byte)'l', (byte)'i', (byte)'c', (byte)'e', 2, (byte)'p', (byte)'w' }, Socks5Messages.UsernamePasswordRequest("alice", "pw"));

    [Fact]
    public void OverlongCredentialsAreRefused() => Assert.Null(Socks5Messages.UsernamePasswordRequest(new string('a', 256), "p"));

    [Fact]
    public void ConnectToANameSendsTheName() =>
        Assert.Equal((byte[])[5, 1, 0, 3, 8, .. "web.test"u8, 0x01, 0xBB], Socks5Messages.Connect("web.test", 443));

    [Fact]
    public void ConnectToAnAddressSendsTheAddress()
    {
        Assert.Equal(new byte[] { 5, 1, 0, 1, 198, 18, 0, 2, 0, 80 }, Socks5Messages.Connect("198.18.0.2", 80));
        Assert.Equal(22, Socks5Messages.Connect("[2001:2::2]", 80)!.Length);
    }

    [Theory]
    [InlineData(new byte[] { 5, 0, 0, 1, 127 }, 10)]
    [InlineData(new byte[] { 5, 0, 0, 4, 0 }, 22)]
    [InlineData(new byte[] { 5, 0, 0, 3, 9 }, 16)]
    [InlineData(new byte[] { 4, 0, 0, 1, 0 }, -1)]
    [InlineData(new byte[] { 5, 0, 0, 9, 0 }, -1)]
    public void ReplyLengthsFollowTheAddressType(byte[] start, int length) => Assert.Equal(length, Socks5Messages.ReplyLength(start));

    [Fact]
    public void ANameTooLongForSocks5HasNoRequest() => Assert.Null(Socks5Messages.Connect(new string('a', 256), 80));

    [Theory]
    [InlineData(new byte[] { 5, 1, 0 }, (int)Socks5Parse.Complete, 3, true, false)]
    [InlineData(new byte[] { 5, 2, 0, 2, 9 }, (int)Socks5Parse.Complete, 4, true, true)]
    [InlineData(new byte[] { 5, 1, 2 }, (int)Socks5Parse.Complete, 3, false, true)]
    [InlineData(new byte[] { 5, 3, 0, 2 }, (int)Socks5Parse.Incomplete, 0, false, false)]
    [InlineData(new byte[] { 5 }, (int)Socks5Parse.Incomplete, 0, false, false)]
    [InlineData(new byte[] { }, (int)Socks5Parse.Incomplete, 0, false, false)]
    [InlineData(new byte[] { 4, 1, 0 }, (int)Socks5Parse.Malformed, 0, false, false)]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T' }, (int)Socks5Parse.Malformed, 0, false, false)]
    [InlineData(new byte[] { 5, 0 }, (int)Socks5Parse.Malformed, 0, false, false)]
    public void GreetingsAreReadAsTheyArrive(byte[] data, int expected, int length, bool none, bool password)
    {
        Assert.Equal((Socks5Parse)expected, Socks5Messages.ParseGreeting(data, out int read, out bool offersNone, out bool offersPassword));
        Assert.Equal(length, read);
        Assert.Equal(none, offersNone);
        Assert.Equal(password, offersPassword);
    }

    [Fact]
    public void TheClientsUsernamePasswordRequestReadsBack()
    {
        byte[] request = Socks5Messages.UsernamePasswordRequest("alice", "pw")!;
        Assert.Equal(Socks5Parse.Complete, Socks5Messages.ParseUsernamePassword(request, out int length, out var user, out var password));
        Assert.Equal(request.Length, length);
        Assert.Equal("alice"u8.ToArray(), user.ToArray());
        Assert.Equal("pw"u8.ToArray(), password.ToArray());
        for (int cut = 0; cut < request.Length; cut++)
        {
            Assert.Equal(Socks5Parse.Incomplete, Socks5Messages.ParseUsernamePassword(request.AsSpan(0, cut), out _, out _, out _));
        }
        Assert.Equal(Socks5Parse.Malformed, Socks5Messages.ParseUsernamePassword([5, 1, (byte)'a', 0], out _, out _, out _));
        Assert.Equal(Socks5Parse.Malformed, Socks5Messages.ParseUsernamePassword([1, 0, 0], out _, out _, out _));
    }

    [Theory]
    [InlineData("192.168.65.3", 80)]
    [InlineData("[fdc4:f303:9324::3]", 8080)]
    [InlineData("web.docker.internal", 443)]
    public void TheClientsConnectRequestReadsBackWholeAndNotBeforeItIsWhole(string host, int port)
    {
        byte[] request = Socks5Messages.Connect(host, port)!;
        byte[] pipelined = [.. request, .. "GET / HTTP/1.1"u8];
        Assert.Equal(Socks5Parse.Complete, Socks5Messages.ParseRequest(pipelined, out int length, out byte command, out var address, out string? name, out ushort readPort));
        Assert.Equal(request.Length, length);
        Assert.Equal(Socks5Messages.CommandConnect, command);
        Assert.Equal(port, readPort);
        if (IpAddress.TryParse(host.Trim('[', ']'), out var expected))
        {
            Assert.Equal(expected, address);
            Assert.Null(name);
        }
        else
        {
            Assert.Null(address);
            Assert.Equal(host, name);
        }
        for (int cut = 0; cut < request.Length; cut++)
        {
            Assert.Equal(Socks5Parse.Incomplete, Socks5Messages.ParseRequest(request.AsSpan(0, cut), out _, out _, out _, out _, out _));
        }
    }

    [Theory]
    [InlineData(new byte[] { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 }, (int)Socks5Parse.Malformed)]
    [InlineData(new byte[] { 5, 1, 1, 1, 1, 2, 3, 4, 0, 80 }, (int)Socks5Parse.Malformed)]
    [InlineData(new byte[] { 5, 1, 0, 3, 0, 0, 80 }, (int)Socks5Parse.Malformed)]
    [InlineData(new byte[] { 5, 1, 0, 3, 2, (byte)'a', 0, 0, 80 }, (int)Socks5Parse.Malformed)]
    [InlineData(new byte[] { 5, 1, 0, 3, 2, (byte)'a', (byte)' ', 0, 80 }, (int)Socks5Parse.Malformed)]
    [InlineData(new byte[] { 5, 1, 0, 7, 1, 2, 3, 4, 0, 80 }, (int)Socks5Parse.UnknownAddressType)]
    [InlineData(new byte[] { 5, 3, 0, 1, 0, 0, 0, 0, 0, 0 }, (int)Socks5Parse.Complete)]
    public void BrokenRequestsAreToldApart(byte[] data, int expected) =>
        Assert.Equal((Socks5Parse)expected, Socks5Messages.ParseRequest(data, out _, out _, out _, out _, out _));

    [Fact]
    public void RepliesCarryTheBoundEndpointOfEitherFamily()
    {
        Span<byte> reply = stackalloc byte[22];
        int length = Socks5Messages.WriteReply(reply, 0, new IpEndpoint(IpAddress.Parse("192.168.65.254"), 40000));
        Assert.Equal(new byte[] { 5, 0, 0, 1, 192, 168, 65, 254, 0x9C, 0x40 }, reply[..length].ToArray());
        Assert.Equal(length, Socks5Messages.ReplyLength(reply));
        length = Socks5Messages.WriteReply(reply, 2, new IpEndpoint(IpAddress.Parse("fdc4:f303:9324::254"), 1));
        Assert.Equal(22, length);
        Assert.Equal((byte[])[5, 2, 0, 4, 0xfd, 0xc4, 0xf3, 0x03, 0x93, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54, 0, 1], reply[..length].ToArray());
        Assert.Equal(length, Socks5Messages.ReplyLength(reply));
    }
}
