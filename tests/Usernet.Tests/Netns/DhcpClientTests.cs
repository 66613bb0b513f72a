using Usernet.Netns;
using Usernet.Wire;

namespace Usernet.Tests.Netns;

/// <summary>The guest side's reading of option 119, which may come from any server, so it must end on any input.</summary>
public sealed class DhcpClientTests
{
    private static List<string> Decode(string data) => DhcpClient.DecodeSearchList(data.Select(c => (byte)c).ToArray());

    [Fact]
    public void DecodesUncompressedNames()
    {
        Assert.Equal(["corp.example", "example.org"], Decode("\u0004corp\u0007example\0\u0007example\u0003org\0"));
    }

    [Fact]
    public void FollowsCompressionPointersWithinTheOption()
    {
        // RFC 3397 §2: pointers count from the start of the option data; "corp" is at 4.
        Assert.Equal(["eng.corp.example", "dev.corp.example", "corp.example"],
            Decode("\u0003eng\u0004corp\u0007example\0\u0003dev\u00C0\u0004\u00C0\u0004"));
    }

    [Fact]
    public void ReadsWhatTheServerWrites()
    {
        string[] domains = ["a.example", "b.c.example", "d.example"];
        Assert.Equal(domains, DhcpClient.DecodeSearchList(DnsSearchList.Encode(domains)));
    }

    [Fact]
    public void ANameOfMoreThan64LabelsIsOneName()
    {
        // RFC 1035 allows 127 labels in 255 bytes; a bound on pointer hops must not cut a name.
        string name = string.Join('.', Enumerable.Repeat("a", 100));
        Assert.Equal([name], DhcpClient.DecodeSearchList(DnsSearchList.Encode([name])));
    }

    [Theory]
    [InlineData("\u00C0\0")]                      // a pointer to itself
    [InlineData("\u0001a\u00C0\0")]               // a label, then back to it
    [InlineData("\u0001a\u00C0\u0004\u0001b\u00C0\0")]  // two names pointing at each other
    public void PointerLoopsEnd(string data)
    {
        // Returning at all is the point; each name takes at least one byte of its own.
        Assert.True(Decode(data).Count <= data.Length);
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("\0", new string[0])]                          // the root alone is no search domain
    [InlineData("\u0005ab", new string[0])]                    // a label cut short
    [InlineData("\u0003foo\0\u0005ab", new[] { "foo" })]       // names before the cut stay
    [InlineData("\u0003foo\0\u00C0", new[] { "foo" })]         // a pointer cut short
    [InlineData("\u00C0\u0050", new string[0])]                // a pointer past the end
    [InlineData("\u0003foo", new[] { "foo" })]                 // no terminating zero
    public void TruncatedInputEnds(string data, string[] expected)
    {
        Assert.Equal(expected, Decode(data));
    }
}
