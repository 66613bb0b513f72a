using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class HostPortTests
{
    // Options as ints: the enum is internal, and a theory's parameters are public.
    private const int Strict = (int)HostPortOptions.None;
    private const int Optional = (int)HostPortOptions.PortOptional;
    private const int Address = (int)HostPortOptions.AddressOnly;
    private const int BareIpv6Alone = (int)HostPortOptions.BareIpv6;
    private const int DnsServer = (int)(HostPortOptions.AddressOnly | HostPortOptions.PortOptional | HostPortOptions.BareIpv6);
    private const int AnyInterface = (int)(HostPortOptions.AddressOnly | HostPortOptions.EmptyHost);

    [Theory]
    [InlineData("example.com:80", Strict, "example.com", null, 80)]
    [InlineData("example.com.:53", Strict, "example.com.", null, 53)]
    [InlineData("Example.COM:443", Strict, "Example.COM", null, 443)]
    [InlineData("1.2.3.4:65535", Strict, "1.2.3.4", "1.2.3.4", 65535)]
    [InlineData("1.2.3.4:1", Address, "1.2.3.4", "1.2.3.4", 1)]
    [InlineData("[::1]:80", Address, "::1", "::1", 80)]
    [InlineData("[fe80::1:80]:8080", Address, "fe80::1:80", "fe80::1:80", 8080)]
    [InlineData("[::ffff:1.2.3.4]:80", Address, "::ffff:1.2.3.4", "1.2.3.4", 80)]
    [InlineData("[::1]:080", Address, "::1", "::1", 80)]
    [InlineData("[::1]:00080", Address, "::1", "::1", 80)]
    [InlineData("example.com", Optional, "example.com", null, 0)]
    [InlineData("[::1]", Optional, "::1", "::1", 0)]
    [InlineData("1.2.3.4", DnsServer, "1.2.3.4", "1.2.3.4", 0)]
    [InlineData("::1", DnsServer, "::1", "::1", 0)]
    [InlineData("fe80::1:53", DnsServer, "fe80::1:53", "fe80::1:53", 0)]
    [InlineData(":8080", AnyInterface, "", null, 8080)]
    [InlineData("*.example.com:443", Strict, "*.example.com", null, 443)]
    [InlineData("under_score.example", Optional, "under_score.example", null, 0)]
    public void ReadsWhatEachCallerAccepts(string text, int options, string host, string? address, int port)
    {
        Assert.True(HostPort.TryParse(text, (HostPortOptions)options, out var parsed, out string? error), error);
        Assert.Equal(host, parsed.Host);
        Assert.Equal(address, parsed.Address?.ToString());
        Assert.Equal(port, parsed.Port);
    }

    [Theory]
    [InlineData("1.2.3.4:+53", DnsServer, "port +53 is not a number in 1..65535")]
    [InlineData("1.2.3.4: 53", DnsServer, "port  53 is not a number in 1..65535")]
    [InlineData("1.2.3.4:53 ", DnsServer, "port 53  is not a number in 1..65535")]
    [InlineData("1.2.3.4:-1", DnsServer, "port -1 is not a number in 1..65535")]
    [InlineData("1.2.3.4:0x35", DnsServer, "port 0x35 is not a number in 1..65535")]
    [InlineData("1.2.3.4:65536", Strict, "port 65536 is not a number in 1..65535")]
    [InlineData("1.2.3.4:0", Strict, "port 0 is not a number in 1..65535")]
    [InlineData("1.2.3.4:00", Optional, "port 00 is not a number in 1..65535")]
    [InlineData("1.2.3.4:99999999999", Strict, "port 99999999999 is not a number in 1..65535")]
    [InlineData("1.2.3.4:", Optional, "the port after ':' is missing")]
    [InlineData("1.2.3.4", Strict, "the port is missing")]
    [InlineData("[::1]", Strict, "the port is missing")]
    [InlineData("[::1", DnsServer, "an opening '[' has no closing ']'")]
    [InlineData("[::1:80", DnsServer, "an opening '[' has no closing ']'")]
    [InlineData("::1]:80", DnsServer, "a closing ']' has no opening '['")]
    [InlineData("::1]", DnsServer, "a closing ']' has no opening '['")]
    [InlineData("[::1]80", DnsServer, "expected :PORT after the bracketed address")]
    [InlineData("[::1]]:80", DnsServer, "expected :PORT after the bracketed address")]
    [InlineData("[1.2.3.4]:80", DnsServer, "1.2.3.4 in brackets is not an IPv6 address")]
    [InlineData("[example.com]:80", Optional, "example.com in brackets is not an IPv6 address")]
    [InlineData("[]:80", AnyInterface, "[] in brackets is not an IPv6 address")]
    [InlineData("[fe80::1%eth0]:80", Address, "fe80::1%eth0 in brackets is not an IPv6 address")]
    [InlineData("::1:80", Address, "it has more than one ':'; an IPv6 address goes in brackets, as in [::1]:80")]
    [InlineData("::1", Optional, "it has more than one ':'; an IPv6 address goes in brackets, as in [::1]:80")]
    [InlineData("::1", BareIpv6Alone, "it has more than one ':'; an IPv6 address goes in brackets, as in [::1]:80")]
    [InlineData("1::2::3", DnsServer, "1::2::3 is not an IPv6 address")]
    [InlineData("a:b:c", DnsServer, "a:b:c is not an IPv6 address")]
    [InlineData("", Optional, "the host is missing")]
    [InlineData(":80", Strict, "the host is missing")]
    [InlineData(":80", Address, "the host is missing")]
    [InlineData(".:80", Strict, "the host is missing")]
    [InlineData("localhost:80", Address, "localhost is not an IP address")]
    [InlineData("010.0.0.1:80", Address, "010.0.0.1 is not an IP address")]
    [InlineData("a b:80", Strict, "host a b has white space or a control character")]
    [InlineData(" example.com:80", Strict, "host  example.com has white space or a control character")]
    [InlineData("bücher.example:80", Strict, "host bücher.example has a character that is not ASCII (an international name is written as xn--)")]
    [InlineData("user@host:80", Strict, "host user@host has a '@', which no host name has")]
    [InlineData("host/path:80", Strict, "host host/path has a '/', which no host name has")]
    [InlineData("a%2e:80", Strict, "host a%2e has a '%', which no host name has")]
    public void RefusesOddTextAndSaysWhy(string text, int options, string reason)
    {
        Assert.False(HostPort.TryParse(text, (HostPortOptions)options, out _, out string? error));
        Assert.StartsWith(reason, error);
    }

    [Fact]
    public void ANameMayHave253CharactersAndATrailingDot()
    {
        string longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Equal(HostPort.MaxNameLength, longest.Length);
        Assert.True(HostPort.TryParse(longest + ":1", Strict, out _, out _));
        Assert.True(HostPort.TryParse(longest + ".:1", Strict, out _, out _));
        Assert.False(HostPort.TryParse("c" + longest + ":1", Strict, out _, out string? error));
        Assert.Equal("the host name is longer than 253 characters", error);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("65535", 65535)]
    [InlineData("080", 80)]
    public void PortsAreDecimalDigits(string text, int expected)
    {
        Assert.True(HostPort.TryParsePort(text, out ushort port));
        Assert.Equal(expected, port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("+53")]
    [InlineData(" 53")]
    [InlineData("53 ")]
    [InlineData("5_3")]
    [InlineData("５３")]
    public void PortsAreNothingElse(string text) => Assert.False(HostPort.TryParsePort(text, out _));

    [Theory]
    [InlineData("example.com:80", Strict)]
    [InlineData("[fd00::1]:8080", Strict)]
    [InlineData("1.2.3.4", Optional)]
    [InlineData("[::1]", Optional)]
    public void TheTextFormReadsBackTheSame(string text, int options)
    {
        Assert.True(HostPort.TryParse(text, (HostPortOptions)options, out var parsed, out _));
        Assert.Equal(text, parsed.ToString());
    }

    [Fact]
    public void AnEndpointTakesTheDefaultPortWhenNoneWasWritten()
    {
        Assert.True(HostPort.TryParse("::1", (HostPortOptions)DnsServer, out var bare, out _));
        Assert.Equal("[::1]:53", bare.ToEndpoint(53).ToString());
        Assert.True(HostPort.TryParse("[::1]:5353", (HostPortOptions)DnsServer, out var given, out _));
        Assert.Equal("[::1]:5353", given.ToEndpoint(53).ToString());
    }
}
