using Usernet.Cli;

namespace Usernet.Tests.Cli;

/// <summary>The parser with the options `usernet run` declares.</summary>
public sealed class CommandLineTests
{
    private static CommandLine Parse(params string[] args) => RunCommand.Options().Parse(args);

    private static string Refused(params string[] args) => Assert.Throws<UsageException>(() => Parse(args)).Message;

    [Theory]
    [InlineData("--mtus", "9000")]
    [InlineData("--mtus=9000")]
    [InlineData("-x")]
    public void AnUnknownOptionIsNamed(params string[] args)
    {
        Assert.Equal("unknown option " + args[0].Split('=')[0], Refused(args));
    }

    [Fact]
    public void AnOptionWithoutItsValueSaysWhatItNeeds()
    {
        Assert.Equal("--mtu needs a value (N)", Refused("--addressing", "dhcp", "--mtu"));
    }

    [Fact]
    public void AnOptionGivenTwiceIsRefusedUnlessRepeatable()
    {
        Assert.Equal("--pcap given twice", Refused("--pcap", "a.pcap", "--pcap=b.pcap"));
        var line = Parse("--set", "network.mtu=9000", "--set=dns.searchDomains=corp.example");
        Assert.Equal(["network.mtu=9000", "dns.searchDomains=corp.example"], line.Values("--set"));
    }

    [Fact]
    public void AValueMayFollowAnEqualsSign()
    {
        var line = Parse("--instance=web", "--set=network.mtu=9000", "--pcap=");
        Assert.Equal("web", line.Value("--instance"));
        // Only the first '=' separates: the value is a KEY=VALUE itself.
        Assert.Equal("network.mtu=9000", line.Value("--set"));
        Assert.Equal("", line.Value("--pcap"));
    }

    [Fact]
    public void AFlagTakesNoValue()
    {
        Assert.Equal("--help takes no value", Refused("--help=yes"));
        Assert.True(Parse("-h").Has("--help"));
    }

    [Fact]
    public void DoubleDashSplitsOffTheCommand()
    {
        var line = Parse("--addressing", "dhcp", "--", "ping", "-c", "1", "--help", "--");
        Assert.Equal(["ping", "-c", "1", "--help", "--"], line.Command);
        Assert.False(line.Has("--help"));
        Assert.Equal("dhcp", line.Value("--addressing"));
        Assert.Empty(line.Positional);
    }

    [Fact]
    public void WithoutDoubleDashThereIsNoCommand()
    {
        Assert.Null(Parse("--addressing", "dhcp").Command);
        Assert.Empty(Parse("--").Command!);
    }

    [Fact]
    public void OtherWordsArePositional()
    {
        var line = Parse("sh", "--mtu", "1400", "-");
        Assert.Equal(["sh", "-"], line.Positional);
        Assert.Equal("1400", line.Value("--mtu"));
    }

    [Fact]
    public void AllValuesListsEachValueGiven()
    {
        var line = Parse("--set", "a=1", "--mtu", "1400", "--set", "b=2");
        Assert.Equal([("--mtu", "1400"), ("--set", "a=1"), ("--set", "b=2")], line.AllValues().OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Value));
    }
}
