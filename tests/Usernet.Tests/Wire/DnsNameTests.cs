using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class DnsNameTests
{
    private static byte[] Buffer() => new byte[DnsName.MaxLength];

    [Fact]
    public void ReadsAnUncompressedNameInLowerCase()
    {
        byte[] message = [0, 0, 4, (byte)'H', (byte)'o', (byte)'S', (byte)'t', 3, (byte)'C', (byte)'o', (byte)'m', 0, 0xFF];
        var name = Buffer();
        Assert.True(DnsName.TryRead(message, 2, name, out int end, out int length));
        Assert.Equal(12, end);
        Assert.Equal(10, length);
        Assert.Equal("host.com", DnsName.ToText(name.AsSpan(0, length)));
    }

    [Fact]
    public void FollowsAPointerAndEndsAfterIt()
    {
        // The MX exchange "mx1.test" in dnsmasq's answer: "mx1" then a pointer to "test" of the question.
        byte[] response = DnsCaptures.DnsmasqMx;
        int exchange = response.Length - DnsRecordOptLength - 10;
        var name = Buffer();
        Assert.True(DnsName.TryRead(response, exchange, name, out int end, out int length));
        Assert.Equal("mx1.test", DnsName.ToText(name.AsSpan(0, length)));
        Assert.Equal(response.Length - DnsRecordOptLength, end);
    }

    private const int DnsRecordOptLength = DnsRecord.OptLength;

    [Fact]
    public void APointerToItselfOrForwardIsRefused()
    {
        byte[] self = [0, 0, 0xC0, 2];
        Assert.False(DnsName.TryRead(self, 2, Buffer(), out _, out _));
        byte[] forward = [0xC0, 3, 0, 1, (byte)'a', 0];
        Assert.False(DnsName.TryRead(forward, 0, Buffer(), out _, out _));
    }

    [Fact]
    public void ALoopThroughLabelsEndsAtTheLengthBound()
    {
        // "a" then a pointer back to it: each turn adds a label, so only the length bound stops it.
        byte[] loop = [1, (byte)'a', 0xC0, 0];
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(DnsName.TryRead(loop, 0, Buffer(), out _, out _));
        Assert.True(sw.ElapsedMilliseconds < 100);
    }

    [Fact]
    public void TooManyPointersAreRefused()
    {
        // A chain of pointers, each to the one before it, longer than the bound.
        var chain = new List<byte> { 0 };
        for (int i = 0; i < DnsName.MaxPointers + 2; i++)
        {
            int target = i == 0 ? 0 : 1 + (i - 1) * 2;
            chain.Add((byte)(0xC0 | (target >> 8)));
            chain.Add((byte)target);
        }
        byte[] message = chain.ToArray();
        Assert.False(DnsName.TryRead(message, message.Length - 2, Buffer(), out _, out _));
        Assert.True(DnsName.TryRead(message, 1 + 2 * (DnsName.MaxPointers - 1), Buffer(), out _, out int length));
        Assert.Equal(1, length);
    }

    [Fact]
    public void LabelTypesOtherThanLengthAndPointerAreRefused()
    {
        Assert.False(DnsName.TryRead([0x41, 0], 0, Buffer(), out _, out _));
        Assert.False(DnsName.TryRead([0x81, 0], 0, Buffer(), out _, out _));
    }

    [Fact]
    public void ALabelOrNameCutShortIsRefused()
    {
        Assert.False(DnsName.TryRead([5, (byte)'a', (byte)'b'], 0, Buffer(), out _, out _));
        Assert.False(DnsName.TryRead([1, (byte)'a'], 0, Buffer(), out _, out _));
        Assert.False(DnsName.TryRead([0xC0], 0, Buffer(), out _, out _));
        Assert.False(DnsName.TryRead([], 0, Buffer(), out _, out _));
    }

    [Fact]
    public void ANameOfMoreThan255OctetsIsRefused()
    {
        // Four labels of 63 and a root: 257 octets.
        var name = new List<byte>();
        for (int i = 0; i < 4; i++)
        {
            name.Add(63);
            name.AddRange(Enumerable.Repeat((byte)'x', 63));
        }
        name.Add(0);
        Assert.False(DnsName.TryRead(name.ToArray(), 0, Buffer(), out _, out _));
        // Three labels of 63 and one of 61: 255 octets, the most there can be.
        name[192] = 61;
        name.RemoveRange(193, 2);
        Assert.Equal(255, name.Count);
        Assert.True(DnsName.TryRead(name.ToArray(), 0, Buffer(), out _, out int length));
        Assert.Equal(255, length);
    }

    [Fact]
    public void EncodesTextAndRefusesWhatIsNoName()
    {
        Assert.Equal(new byte[] { 4, (byte)'h', (byte)'o', (byte)'s', (byte)'t', 0 }, DnsName.Encode("HOST."));
        Assert.Equal(new byte[] { 0 }, DnsName.Encode("."));
        Assert.Throws<FormatException>(() => DnsName.Encode("a..b"));
        Assert.Throws<FormatException>(() => DnsName.Encode(new string('a', 64) + ".com"));
        Assert.Throws<FormatException>(() => DnsName.Encode("ünicode.example"));
    }

    [Fact]
    public void TextEscapesDotsAndUnprintableOctets()
    {
        byte[] wire = [3, (byte)'a', (byte)'.', 7, 2, (byte)'o', (byte)'k', 0];
        Assert.Equal("a\\.\\007.ok", DnsName.ToText(wire));
        Assert.Equal(".", DnsName.ToText([0]));
    }

    [Theory]
    [InlineData("host.docker.internal", true)]
    [InlineData("_ldap._tcp.corp.example", true)]
    [InlineData("a-b.c", true)]
    public void HostNamesAreLettersDigitsHyphensAndUnderscores(string name, bool expected) =>
        Assert.Equal(expected, DnsName.IsHostName(DnsName.Encode(name)));

    [Fact]
    public void NamesWithOtherOctetsAreNoHostNames()
    {
        Assert.False(DnsName.IsHostName([3, (byte)'a', (byte)' ', (byte)'b', 0]));
        Assert.False(DnsName.IsHostName([3, (byte)'a', (byte)'.', (byte)'b', 0]));
        Assert.False(DnsName.IsHostName([0]));
    }

    [Theory]
    [InlineData("docker.internal", "docker.internal", true)]
    [InlineData("x.host.docker.internal", "docker.internal", true)]
    [InlineData("mydocker.internal", "docker.internal", false)]
    [InlineData("internal", "docker.internal", false)]
    [InlineData("docker.internal.evil", "docker.internal", false)]
    public void IsAtOrBelowComparesWholeLabels(string name, string zone, bool expected) =>
        Assert.Equal(expected, DnsName.IsAtOrBelow(DnsName.Encode(name), DnsName.Encode(zone)));
}
