using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class ResolvConfTests
{
    [Fact]
    public void ReadsNameserversAndTheSearchList()
    {
        var conf = ResolvConf.Parse("""
            # written by NetworkManager
            nameserver 10.0.0.2
            nameserver	fd00::53
            search corp.example example.org
            options edns0 trust-ad
            """);
        Assert.Equal([IpAddress.Parse("10.0.0.2"), IpAddress.Parse("fd00::53")], conf.Nameservers);
        Assert.Equal(["corp.example", "example.org"], conf.SearchDomains);
    }

    [Fact]
    public void CommentsBlankLinesAndCarriageReturnsAreSkipped()
    {
        var conf = ResolvConf.Parse("; old style comment\r\n\r\n   \r\n#nameserver 1.1.1.1\r\n  nameserver 10.0.0.2  \r\n");
        Assert.Equal([IpAddress.Parse("10.0.0.2")], conf.Nameservers);
        Assert.Empty(conf.SearchDomains);
    }

    [Fact]
    public void TheLastSearchOrDomainLineWins()
    {
        // resolv.conf(5): search and domain are mutually exclusive; the last one counts.
        Assert.Equal(["b.example"], ResolvConf.Parse("search a.example x.example\ndomain b.example\n").SearchDomains);
        Assert.Equal(["c.example", "d.example"], ResolvConf.Parse("domain b.example\nsearch c.example d.example\n").SearchDomains);
        Assert.Empty(ResolvConf.Parse("search a.example\nsearch\n").SearchDomains);
    }

    [Theory]
    [InlineData("nameserver fe80::1%eth0")]   // scoped: meaningless in another namespace
    [InlineData("nameserver dns.example")]    // not an address
    [InlineData("nameserver")]
    [InlineData("domain")]
    public void LinesThatCannotBeUsedAreIgnored(string line)
    {
        var conf = ResolvConf.Parse(line + "\nnameserver 10.0.0.2\n");
        Assert.Equal([IpAddress.Parse("10.0.0.2")], conf.Nameservers);
        Assert.Empty(conf.SearchDomains);
    }

    [Fact]
    public void AMissingFileIsAnEmptyConfiguration()
    {
        var conf = ResolvConf.Read(Path.Combine(Path.GetTempPath(), $"usernet-no-such-{Guid.NewGuid():N}", "resolv.conf"));
        Assert.Same(ResolvConf.Empty, conf);
    }
}
