using Usernet.Cli;
using Usernet.Services.Forwarding;

namespace Usernet.Tests.Services.Forwarding;

public sealed class PublishSpecTests
{
    [Theory]
    [InlineData("80", "80/tcp")]
    [InlineData("8080:80", "8080:80/tcp")]
    [InlineData(":80/udp", "80/udp")]
    [InlineData("127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp")]
    [InlineData("127.0.0.1::80", "127.0.0.1:80/tcp")]
    [InlineData("[::1]:8080:80/udp", "[::1]:8080:80/udp")]
    [InlineData("8000-8010:80-90", "8000-8010:80-90/tcp")]
    [InlineData("08080:080", "8080:80/tcp")]
    [InlineData(" 8080:80 ", "8080:80/tcp")]
    public void ReadsDockersForm(string text, string expected) => Assert.Equal(expected, PublishSpec.Parse(text).ToString());

    [Theory]
    [InlineData("0", "guest port '0' is not a port (1-65535)")]
    [InlineData("8080:65536", "guest port '65536' is not a port (1-65535)")]
    [InlineData("[::1:8080:80", "an IPv6 host address goes in brackets")]
    [InlineData("localhost:8080:80", "'localhost' is not an IPv4 address")]
    // Each of these was accepted before: int.TryParse takes a sign and white space, and the
    // brackets took any address.
    [InlineData("+8080:80", "host port '+8080' is not a port (1-65535)")]
    [InlineData("8080: 80", "guest port ' 80' is not a port (1-65535)")]
    [InlineData("[127.0.0.1]:8080:80", "'127.0.0.1' in brackets is not an IPv6 address")]
    public void RefusesAndSaysWhy(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => PublishSpec.Parse(text));
        Assert.StartsWith($"'{text}': ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void APublishFlagThatWasTakenIsNowAUsageErrorNamingTheFlag()
    {
        // "+8080:80" published on 8080 before; now it is refused before anything starts.
        var error = Assert.Throws<UsageException>(() => RunCommand.ValidateSpec("+8080:80"));
        Assert.Equal("--publish: '+8080:80': host port '+8080' is not a port (1-65535)", error.Message);
    }
}
