using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class DnsQueryTests
{
    private static DnsQueryStatus Parse(byte[] message, out string name, out ushort type, out bool edns, out ushort size, out ushort id)
    {
        byte[] buffer = new byte[DnsName.MaxLength];
        var status = DnsQuery.TryParse(message, buffer, out var query);
        name = query.Name.IsEmpty ? "" : DnsName.ToText(query.Name);
        type = query.Type;
        edns = query.HasEdns;
        size = query.UdpPayloadSize;
        id = query.Id;
        return status;
    }

    [Fact]
    public void ParsesDigsQueryWithItsEdnsAndCookie()
    {
        Assert.Equal(DnsQueryStatus.Valid, Parse(DnsCaptures.DigA, out string name, out ushort type, out bool edns, out ushort size, out ushort id));
        Assert.Equal("host.docker.internal", name);
        Assert.Equal(DnsType.A, type);
        Assert.True(edns);
        Assert.Equal(1232, size);
        Assert.Equal(0x17cb, id);
        Assert.Equal(DnsQueryStatus.Valid, Parse(DnsCaptures.DigAaaa, out _, out type, out _, out _, out _));
        Assert.Equal(DnsType.Aaaa, type);
    }

    [Fact]
    public void TheQuestionIsKeptAsAskedAndTheNameInLowerCase()
    {
        byte[] message = DnsTestMessages.Query("HoSt.Docker.Internal", DnsType.A);
        byte[] buffer = new byte[DnsName.MaxLength];
        Assert.Equal(DnsQueryStatus.Valid, DnsQuery.TryParse(message, buffer, out var query));
        Assert.Equal("host.docker.internal", DnsName.ToText(query.Name));
        Assert.Equal(message[12..], query.Question.ToArray());
        Assert.False(query.HasEdns);
        Assert.Equal(512, query.UdpPayloadSize);
        Assert.True(query.RecursionDesired);
    }

    [Fact]
    public void ASmallEdnsSizeCountsAs512()
    {
        Assert.Equal(DnsQueryStatus.Valid, Parse(DnsTestMessages.Query("a.test", DnsType.A, edns: true, udpSize: 100), out _, out _, out _, out ushort size, out _));
        Assert.Equal(512, size);
    }

    [Fact]
    public void ResponsesAndRuntsAreIgnored()
    {
        Assert.Equal(DnsQueryStatus.Ignore, Parse(DnsCaptures.DnsmasqMx, out _, out _, out _, out _, out _));
        Assert.Equal(DnsQueryStatus.Ignore, Parse(new byte[11], out _, out _, out _, out _, out _));
    }

    [Fact]
    public void OtherOpcodesAreNotImplemented()
    {
        byte[] notify = DnsTestMessages.Query("a.test", DnsType.Soa, flags: 4 << 11);
        Assert.Equal(DnsQueryStatus.NotImplemented, Parse(notify, out _, out _, out _, out _, out ushort id));
        Assert.Equal(0x1234, id);
    }

    [Fact]
    public void NoQuestionOrTwoAreFormatErrors()
    {
        byte[] none = DnsTestMessages.Query("a.test", DnsType.A);
        none[5] = 0;
        Assert.Equal(DnsQueryStatus.FormatError, Parse(none, out _, out _, out _, out _, out _));
        byte[] two = DnsTestMessages.Query("a.test", DnsType.A);
        two[5] = 2;
        Assert.Equal(DnsQueryStatus.FormatError, Parse(two, out _, out _, out _, out _, out _));
    }

    [Fact]
    public void ACutQuestionOrAdditionalSectionIsAFormatError()
    {
        byte[] query = DnsCaptures.DigA;
        Assert.Equal(DnsQueryStatus.FormatError, Parse(query[..30], out _, out _, out _, out _, out _));
        Assert.Equal(DnsQueryStatus.FormatError, Parse(query[..^3], out _, out _, out _, out _, out _));
    }

    [Fact]
    public void TwoOptRecordsOrOneWithANameAreFormatErrors()
    {
        byte[] query = DnsTestMessages.Query("a.test", DnsType.A, edns: true);
        byte[] twice = [.. query, .. query[^DnsRecord.OptLength..]];
        twice[11] = 2;
        Assert.Equal(DnsQueryStatus.FormatError, Parse(twice, out _, out _, out _, out _, out _));
        byte[] named = [.. query[..^DnsRecord.OptLength], 0xC0, 12, .. query[^(DnsRecord.OptLength - 1)..]];
        Assert.Equal(DnsQueryStatus.FormatError, Parse(named, out _, out _, out _, out _, out _));
    }

    [Fact]
    public void EdnsVersion1IsBadVersion()
    {
        byte[] query = DnsTestMessages.Query("a.test", DnsType.A, edns: true);
        query[^5] = 1;
        Assert.Equal(DnsQueryStatus.BadVersion, Parse(query, out string name, out _, out _, out _, out _));
        Assert.Equal("a.test", name);
    }

    [Fact]
    public void TrailingOctetsAreTolerated()
    {
        Assert.Equal(DnsQueryStatus.Valid, Parse([.. DnsTestMessages.Query("a.test", DnsType.A), 1, 2, 3], out _, out _, out _, out _, out _));
    }
}
