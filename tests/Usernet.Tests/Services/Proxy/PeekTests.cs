using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Usernet.Services.Proxy;

namespace Usernet.Tests.Services.Proxy;

public sealed class PeekTests
{
    /// <summary>The first bytes .NET's own TLS client sends for <paramref name="host"/>, caught on loopback.</summary>
    private static async Task<byte[]> ClientHello(string host)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        var tls = new SslStream(client.GetStream());
        _ = tls.AuthenticateAsClientAsync(host).ContinueWith(_ => { }, TaskScheduler.Default);
        var buffer = new byte[16384];
        int total = 0;
        server.ReceiveTimeout = 5000;
        while (total < 5 || total < 5 + (buffer[3] << 8 | buffer[4]))
        {
            total += await server.GetStream().ReadAsync(buffer.AsMemory(total));
        }
        return buffer[..total];
    }

    [Fact]
    public async Task TheServerNameIsReadFromARealClientHello()
    {
        byte[] hello = await ClientHello("web.corp.test");
        Assert.Equal(PeekResult.Found, TlsClientHello.TryReadServerName(hello, out string? name));
        Assert.Equal("web.corp.test", name);
    }

    [Fact]
    public async Task AClientHelloCutShortNeedsMore()
    {
        byte[] hello = await ClientHello("web.corp.test");
        for (int length = 0; length < hello.Length; length += 7)
        {
            var result = TlsClientHello.TryReadServerName(hello.AsSpan(0, length), out _);
            Assert.True(result is PeekResult.NeedMore or PeekResult.Found, $"{length}: {result}");
        }
    }

    [Fact]
    public void OtherBytesAreNotTls()
    {
        Assert.Equal(PeekResult.NotThis, TlsClientHello.TryReadServerName("GET / HTTP/1.1\r\n"u8, out _));
        Assert.Equal(PeekResult.NotThis, TlsClientHello.TryReadServerName("SSH-2.0-OpenSSH\r\n"u8, out _));
        Assert.Equal(PeekResult.NotThis, TlsClientHello.TryReadServerName(new byte[] { 22, 3, 1, 0, 4, 2, 0, 0, 0 }, out _));
    }

    [Fact]
    public void GarbageAfterATlsRecordHeaderNeverThrows()
    {
        var random = new Random(8);
        for (int i = 0; i < 2000; i++)
        {
            byte[] data = new byte[random.Next(6, 300)];
            random.NextBytes(data);
            data[0] = 22;
            data[1] = 3;
            data[5] = 1;
            TlsClientHello.TryReadServerName(data, out _);
        }
    }

    [Fact]
    public void TheHostFieldIsReadFromAPlainRequest()
    {
        Assert.Equal(PeekResult.Found, HttpHostPeek.TryReadHost(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: web.test:8080\r\n\r\n"), out string? host));
        Assert.Equal("web.test:8080", host);
        Assert.Equal(PeekResult.NeedMore, HttpHostPeek.TryReadHost("GET / HTTP/1.1\r\nHost: web"u8, out _));
        Assert.Equal(PeekResult.NotThis, HttpHostPeek.TryReadHost("\x16\x03\x01"u8, out _));
        Assert.Equal(PeekResult.NoName, HttpHostPeek.TryReadHost("GET / HTTP/1.0\r\n\r\n"u8, out _));
    }
}
