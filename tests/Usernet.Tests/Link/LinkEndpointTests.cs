using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Tests.Link;

public sealed class LinkEndpointTests
{
    [Theory]
    [InlineData("unix:/tmp/usernet.sock", false, "Unix", "/tmp/usernet.sock", null, -1)]
    [InlineData("tcp:127.0.0.1:5555", false, "Tcp", null, "127.0.0.1:5555", -1)]
    [InlineData("tcp:[::1]:5555", false, "Tcp", null, "[::1]:5555", -1)]
    [InlineData("fd:3", false, "Fd", null, null, 3)]
    [InlineData("unixgram:/tmp/dgram.sock", true, "UnixDatagram", "/tmp/dgram.sock", null, -1)]
    [InlineData("unix:/tmp/dgram.sock", true, "UnixDatagram", "/tmp/dgram.sock", null, -1)]
    [InlineData("udp:127.0.0.1:5556", true, "Udp", null, "127.0.0.1:5556", -1)]
    [InlineData("fd:0", true, "Fd", null, null, 0)]
    public void ParsesWhatEachLinkKindListensOn(string text, bool datagram, string kind, string? path, string? endpoint, int fd)
    {
        var parsed = LinkEndpoint.Parse(text, datagram);
        Assert.Equal(Enum.Parse<LinkEndpointKind>(kind), parsed.Kind);
        Assert.Equal(path, parsed.Path);
        Assert.Equal(endpoint, parsed.Endpoint?.ToString());
        Assert.Equal(fd, parsed.Fd);
        Assert.Equal(parsed, LinkEndpoint.Parse(parsed.ToString(), datagram));
    }

    [Theory]
    [InlineData("", false, "expected unix:PATH, tcp:ADDRESS:PORT or fd:N")]
    [InlineData("/tmp/usernet.sock", false, "expected unix:PATH")]
    [InlineData(":5555", false, "expected unix:PATH")]
    [InlineData("/tmp/dgram.sock", true, "expected unixgram:PATH or udp:ADDRESS:PORT")]
    [InlineData("unix:", false, "missing path")]
    [InlineData("unixgram:", true, "missing path")]
    [InlineData("tcp:127.0.0.1", false, "the port is missing (expected ADDRESS:PORT or [IPv6]:PORT)")]
    [InlineData("tcp::5555", false, "the host is missing")]
    [InlineData("tcp:127.0.0.1:65536", false, "port 65536 is not a number in 1..65535")]
    [InlineData("tcp:127.0.0.1:", false, "the port after ':' is missing")]
    [InlineData("tcp:localhost:5555", false, "localhost is not an IP address")]
    [InlineData("udp:127.0.0.1:x", true, "port x is not a number in 1..65535")]
    [InlineData("tcp:127.0.0.1:+5555", false, "port +5555 is not a number in 1..65535")]
    [InlineData("tcp:127.0.0.1: 5555", false, "port  5555 is not a number in 1..65535")]
    [InlineData("tcp:127.0.0.1:0", false, "port 0 is not a number in 1..65535")]
    [InlineData("tcp:::1:5555", false, "an IPv6 address goes in brackets, as in [::1]:80")]
    [InlineData("tcp:[::1:5555", false, "an opening '[' has no closing ']'")]
    [InlineData("udp:127.0.0.1:5556", false, "unknown link address")]
    [InlineData("unixgram:/tmp/dgram.sock", false, "unknown link address")]
    [InlineData("tcp:127.0.0.1:5555", true, "unknown link address (expected unixgram:PATH, udp:ADDRESS:PORT or fd:N)")]
    [InlineData("fd:-1", false, "unknown link address")]
    [InlineData("fd:three", false, "unknown link address")]
    [InlineData("vsock:3:1024", false, "unknown link address")]
    public void RefusesWhatItCannotUseAndQuotesTheInput(string text, bool datagram, string reason)
    {
        var error = Assert.Throws<FormatException>(() => LinkEndpoint.Parse(text, datagram));
        Assert.StartsWith($"'{text}': ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void AnIpv6AddressWithAPortNeedsItsBrackets()
    {
        // "fe80::1:80" is an address in itself: it was read as fe80::1 port 80, a guess.
        Assert.Throws<FormatException>(() => LinkEndpoint.ParseEndpoint("x", "fe80::1:80"));
        Assert.Equal(new IpEndpoint(IpAddress.Parse("fe80::1"), 80), LinkEndpoint.ParseEndpoint("x", "[fe80::1]:80"));
    }
}
