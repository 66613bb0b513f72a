using System.Text;
using Usernet.Http;
using Usernet.Services.Proxy;

namespace Usernet.Tests.Services.Proxy;

public sealed class ForwardOrDiscardStreamTests
{
    [Fact]
    public async Task ABodyIsForwardedWhileTheUpstreamTakesIt()
    {
        var upstream = new MemoryStream();
        var sink = new ForwardOrDiscardStream(upstream, TimeSpan.FromSeconds(10));
        var reader = new HttpReader(new MemoryStream("hello, upstreamNEXT"u8.ToArray()));
        await reader.CopyAsync(15, sink, CancellationToken.None);
        Assert.Equal("hello, upstream", Encoding.ASCII.GetString(upstream.ToArray()));
        Assert.False(sink.Failed);
    }

    [Fact]
    public async Task TheRestOfABodyIsReadAndDroppedOnceTheUpstreamFails()
    {
        var upstream = new MemoryStream();
        await upstream.DisposeAsync();
        var sink = new ForwardOrDiscardStream(upstream, TimeSpan.FromSeconds(10));
        var reader = new HttpReader(new MemoryStream("2\r\nhi\r\n3\r\nyou\r\n0\r\n\r\nNEXT"u8.ToArray()));
        await reader.CopyChunkedAsync(sink, CancellationToken.None);
        Assert.True(sink.Failed);
        // The guest's connection is in step: the next request starts where the body ended.
        Assert.Equal("NEXT", Encoding.ASCII.GetString(reader.Buffered.Span));
    }
}
