using System.Text;
using Usernet.Http;

namespace Usernet.Tests.Http;

public sealed class HttpHeadParserTests
{
    private static HttpRequestHead Request(string text) => HttpHeadParser.ParseRequest(Encoding.Latin1.GetBytes(text));

    [Fact]
    public void AnAbsoluteFormRequestParses()
    {
        var request = Request("GET http://web.test/a?b HTTP/1.1\r\nHost: web.test\r\nProxy-Connection: keep-alive\r\n\r\n");
        Assert.Equal("GET", request.Method);
        Assert.Equal("http://web.test/a?b", request.Target);
        Assert.Equal("web.test", request.Headers.Get("host"));
        Assert.True(request.KeepAlive);
    }

    [Fact]
    public void FindEndAcceptsCrlfAndBareLf()
    {
        Assert.Equal(-1, HttpHeadParser.FindEnd("GET / HTTP/1.1\r\nHost: a\r\n"u8));
        Assert.Equal(27, HttpHeadParser.FindEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"u8));
        Assert.Equal(24, HttpHeadParser.FindEnd("GET / HTTP/1.1\nHost: a\n\nrest"u8));
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n")]
    [InlineData("GET  http://a/ HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/2.0\r\n\r\n")]
    [InlineData("G(T http://a/ HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n")]
    [InlineData("POST http://a/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")]
    [InlineData("POST http://a/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("POST http://a/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")]
    [InlineData("GET /path HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://a/ HTTP/1.1\r\nX: a\rb\r\n\r\n")]
    public void MalformedRequestsAreRefused(string text) =>
        Assert.Throws<HttpFormatException>(() => Request(text));

    [Fact]
    public void TooManyFieldsAreRefused()
    {
        string fields = string.Concat(Enumerable.Range(0, HttpHeadParser.MaxFields + 1).Select(i => $"X-{i}: v\r\n"));
        Assert.Throws<HttpFormatException>(() => Request($"GET http://a/ HTTP/1.1\r\n{fields}\r\n"));
    }

    [Fact]
    public void HopByHopFieldsAndThoseConnectionNamesAreDropped()
    {
        var request = Request("GET http://a/ HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nProxy-Authorization: Basic x\r\nTE: trailers\r\nAccept: */*\r\n\r\n");
        request.Headers.RemoveHopByHop();
        Assert.Equal(["Host", "Accept"], request.Headers.Fields.Select(f => f.Key));
    }

    [Fact]
    public void AResponseParses()
    {
        var response = HttpHeadParser.ParseResponse("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\nContent-Length: 0\r\n\r\n"u8);
        Assert.Equal(407, response.Status);
        Assert.Equal("Proxy Authentication Required", response.Reason);
        Assert.Equal(0, HttpHeadParser.ContentLength(response.Headers));
    }

    [Theory]
    [InlineData("1a", 26)]
    [InlineData("0", 0)]
    [InlineData("A;ext=1", 10)]
    public void ChunkSizesParse(string line, long size) => Assert.Equal(size, HttpReader.ParseChunkSize(line));

    [Theory]
    [InlineData("")]
    [InlineData("zz")]
    [InlineData("-1")]
    [InlineData("1000000000000000")]
    public void BadChunkSizesAreRefused(string line) => Assert.Throws<HttpFormatException>(() => HttpReader.ParseChunkSize(line));

    [Fact]
    public async Task AChunkedBodyIsRelayedCanonically()
    {
        var source = new MemoryStream("5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\nNEXT"u8.ToArray());
        var reader = new HttpReader(source);
        var output = new MemoryStream();
        await reader.CopyChunkedAsync(output, CancellationToken.None);
        Assert.Equal("5\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n", Encoding.ASCII.GetString(output.ToArray()));
        Assert.Equal("NEXT", Encoding.ASCII.GetString(reader.Buffered.Span));
    }

    [Fact]
    public async Task AChunkedBodyIsDecodedForARecipientWithoutChunked()
    {
        var reader = new HttpReader(new MemoryStream("5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\nNEXT"u8.ToArray()));
        var output = new MemoryStream();
        await reader.CopyChunkedAsync(output, CancellationToken.None, decode: true);
        Assert.Equal("hello!", Encoding.ASCII.GetString(output.ToArray()));
        Assert.Equal("NEXT", Encoding.ASCII.GetString(reader.Buffered.Span));
    }

    [Fact]
    public async Task AChunkedBodyIsRelayedVerbatim()
    {
        // Upper-case sizes, an extension, a bare LF and a trailer: a tunnel passes them on as they came.
        byte[] body = "A;x=y\r\n0123456789\r\n1\n!\r\n0\r\nX-T: 1\r\n\r\n"u8.ToArray();
        var reader = new HttpReader(new MemoryStream([.. body, .. "NEXT"u8.ToArray()]));
        var output = new MemoryStream();
        await reader.CopyChunkedVerbatimAsync(output, CancellationToken.None);
        Assert.Equal(body, output.ToArray());
        Assert.Equal("NEXT", Encoding.ASCII.GetString(reader.Buffered.Span));
    }

    [Fact]
    public async Task AChunkLongerThanItsSizeIsRefused()
    {
        var reader = new HttpReader(new MemoryStream("2\r\nhello\r\n0\r\n\r\n"u8.ToArray()));
        await Assert.ThrowsAsync<HttpFormatException>(async () => await reader.CopyChunkedAsync(Stream.Null, CancellationToken.None));
    }

    [Fact]
    public async Task AnOversizedHeadIsRefused()
    {
        byte[] head = Encoding.ASCII.GetBytes("GET http://a/ HTTP/1.1\r\nX: " + new string('a', HttpReader.DefaultMaxHead) + "\r\n\r\n");
        var reader = new HttpReader(new MemoryStream(head));
        await Assert.ThrowsAsync<HttpFormatException>(async () => await reader.ReadHeadAsync(CancellationToken.None));
    }
}
