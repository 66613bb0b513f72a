using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class DnsSearchListTests
{
    [Fact]
    public void NamesAreWrittenUncompressedOneAfterAnother()
    {
        // RFC 3397 §2's example list, written without its pointers.
        byte[] encoded = DnsSearchList.Encode(["eng.apple.com.", "marketing.apple.com"]);
        Assert.Equal("\u0003eng\u0005apple\u0003com\0\u0009marketing\u0005apple\u0003com\0"u8.ToArray(), encoded);
        Assert.Empty(DnsSearchList.Encode([]));
    }

    [Fact]
    public void NamesAreWrittenInLowerCase() =>
        Assert.Equal("\u0004corp\u0007example\0"u8.ToArray(), DnsSearchList.Encode(["Corp.EXAMPLE"]));

    [Fact]
    public void TheListStopsAtAWholeNameWithin255Bytes()
    {
        // 69 bytes a name: three fit in 255, and neither the fourth nor anything after it is cut in.
        string[] domains = [.. Enumerable.Range(0, 4).Select(i => $"{new string((char)('a' + i), 59)}.example"), "z.example"];
        byte[] encoded = DnsSearchList.Encode(domains, out var leftOut);
        Assert.Equal(3 * 69, encoded.Length);
        Assert.Equal(0, encoded[^1]);
        Assert.Equal([domains[3], "z.example"], leftOut);
    }

    [Theory]
    [InlineData("a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example")] // a label of 64
    [InlineData("bücher.example")]
    [InlineData("corp..example")]
    [InlineData(".")]
    [InlineData("")]
    public void ANameThatIsNoDnsNameIsLeftOutWholeNotCut(string bad)
    {
        // resolv.conf is not validated: a 64-byte label must not turn "a.<64>.example" into "a",
        // nor "corp..example" into "corp.example".
        byte[] encoded = DnsSearchList.Encode(["ok.example", bad, "next.example"], out var leftOut);
        Assert.Equal("\u0002ok\u0007example\0\u0004next\u0007example\0"u8.ToArray(), encoded);
        Assert.Equal([bad], leftOut);
    }

    [Fact]
    public void ANameLongerThan255BytesIsLeftOut()
    {
        // 4 labels of 63 are 256 bytes with their lengths and the root: one too many.
        string tooLong = string.Join('.', Enumerable.Repeat(new string('a', 63), 4));
        string longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Empty(DnsSearchList.Encode([tooLong]));
        Assert.Equal(DnsName.MaxLength, DnsSearchList.Encode([longest]).Length);
    }
}
