using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Usernet.Http;

namespace Usernet.Control;

/// <summary>The CLI's side of the control API.</summary>
internal static class ControlClient
{
    /// <summary>
    /// Sends one request and reads the answer with the same reader the server uses. Throws
    /// <see cref="HttpFormatException"/> when the answer is not well-formed HTTP.
    /// </summary>
    public static async Task<(int Status, string Body)> SendAsync(string socketPath, string method, string path, string? body = null)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[] content = Encoding.UTF8.GetBytes(body ?? "");
        var headers = new HttpHeaders();
        headers.Add("Host", "usernet");
        headers.Add("Content-Type", "application/json");
        headers.Add("Content-Length", content.Length.ToString(CultureInfo.InvariantCulture));
        headers.Add("Connection", "close");
        byte[] head = Encoding.ASCII.GetBytes(new HttpRequestHead(method, path, "HTTP/1.1", headers).Format());
        byte[] request = new byte[head.Length + content.Length];
        head.CopyTo(request, 0);
        content.CopyTo(request, head.Length);
        try
        {
            // One write: the server may answer (a 400, say) and close as soon as it has read
            // the head, and a second write would then fail with EPIPE before the answer is read.
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The answer the server sent before closing is still in the receive queue; read it.
        }

        var reader = new HttpReader(stream);
        byte[] responseHead = await reader.ReadHeadAsync(CancellationToken.None)
            ?? throw new HttpFormatException("the instance closed the connection without answering");
        var response = HttpHeadParser.ParseResponse(responseHead);
        using var received = new MemoryStream();
        // The body's framing, by RFC 9112 §6.3: chunked, Content-Length, or up to the close.
        if (HttpHeadParser.IsChunked(response.Headers))
        {
            await reader.CopyChunkedAsync(received, CancellationToken.None, decode: true);
        }
        else if (HttpHeadParser.ContentLength(response.Headers) is { } length)
        {
            await reader.CopyAsync(length, received, CancellationToken.None);
        }
        else
        {
            await reader.CopyToEndAsync(received, CancellationToken.None);
        }
        return (response.Status, Encoding.UTF8.GetString(received.GetBuffer(), 0, (int)received.Length));
    }
}
