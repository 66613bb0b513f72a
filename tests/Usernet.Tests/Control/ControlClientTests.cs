using System.Net.Sockets;
using System.Text;
using Usernet.Control;

namespace Usernet.Tests.Control;

/// <summary>The CLI's client against a server that answers before it has read the whole request.</summary>
public sealed class ControlClientTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-client-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task AnAnswerSentAfterTheHeadIsReadEvenWhenTheServerClosesBeforeTheBody()
    {
        string path = Path.Combine(_directory.FullName, "early.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var cancel = TestContext.Current.CancellationToken;
        var server = Task.Run(async () =>
        {
            using var connection = await listener.AcceptAsync(cancel);
            var received = new StringBuilder();
            byte[] buffer = new byte[1];
            // Reads the head only, byte by byte, then answers and closes with the body unread,
            // as a server that refuses a request on its head does.
            while (!received.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await connection.ReceiveAsync(buffer, cancel) == 0)
                {
                    return;
                }
                received.Append((char)buffer[0]);
            }
            await connection.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 413 Content Too Large\r\nContent-Length: 27\r\nConnection: close\r\n\r\n{\"error\": \"body too large\"}"), cancel);
            connection.Shutdown(SocketShutdown.Both);
        }, cancel);

        // Larger than a unix socket's buffers, so the write is still under way when the server closes.
        string body = new('x', 8 << 20);
        var (status, answer) = await ControlClient.SendAsync(path, "POST", "/ports", body);

        Assert.Equal(413, status);
        Assert.Equal("{\"error\": \"body too large\"}", answer);
        await server;
    }
}
