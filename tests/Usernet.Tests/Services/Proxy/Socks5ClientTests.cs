using Usernet.Config;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Tests.Services.Proxy;

public sealed class Socks5ClientTests
{
    /// <summary>The handshake against a scripted proxy, over a memory stream pair.</summary>
    [Fact]
    public async Task AHandshakeWithCredentialsSucceeds()
    {
        ProxyUri.TryParse("socks5h://alice:secret@127.0.0.1:1080", out var proxy, out _);
        var fromProxy = new MemoryStream([5, 2, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        var duplex = new ScriptedStream(fromProxy);
        await Socks5Client.ConnectAsync(duplex, proxy!, "web.test", 443, CancellationToken.None);
        Assert.Equal((byte[])[5, 2, 0, 2, 1, 5, .. "alice"u8, 6, .. "secret"u8, 5, 1, 0, 3, 8, .. "web.test"u8, 1, 0xBB], duplex.Written.ToArray());
    }

    [Fact]
    public async Task RefusedCredentialsSayTheProxyRefusedAuthentication()
    {
        ProxyUri.TryParse("socks5h://alice:wrong@127.0.0.1:1080", out var proxy, out _);
        var duplex = new ScriptedStream(new MemoryStream([5, 2, 1, 1]));
        var e = await Assert.ThrowsAsync<ProxyException>(() => Socks5Client.ConnectAsync(duplex, proxy!, "web.test", 443, CancellationToken.None));
        Assert.Contains("refused authentication", e.Message);
        Assert.DoesNotContain("wrong", e.Message);
    }

    private sealed class ScriptedStream(MemoryStream input) : Stream
    {
        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
    }
}
