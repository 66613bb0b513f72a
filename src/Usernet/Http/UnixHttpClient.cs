using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Usernet.Http;

/// <summary>
/// Requests on connections of their own to a unix socket, read with the same strict reader the
/// servers use: what the CLI asks the control API, and what Usernet asks the Docker daemon.
/// </summary>
internal static class UnixHttpClient
{
    /// <summary>The largest answer body read whole; a larger one is an error rather than memory.</summary>
    public const int MaxBody = 16 * 1024 * 1024;

    /// <summary>
    /// Sends one request and reads the whole answer. Throws <see cref="HttpFormatException"/>
    /// when the answer is not well-formed HTTP, <see cref="SocketException"/> when nobody listens.
    /// </summary>
    public static async Task<(int Status, byte[] Body)> SendAsync(
        string socketPath, string method, string target, string host, string? body = null, CancellationToken cancel = default)
    {
        var (socket, reader, response) = await OpenAsync(socketPath, method, target, host, body, cancel).ConfigureAwait(false);
        using var _ = socket;
        using var received = new MemoryStream();
        await ReadBodyAsync(reader, response, received, decode: true, cancel).ConfigureAwait(false);
        return (response.Status, received.ToArray());
    }

    /// <summary>
    /// Sends one request and reads the answer's head, leaving its body in the returned reader
    /// (a stream that goes on, such as Docker's events). The caller owns the socket.
    /// </summary>
    public static async Task<(Socket Socket, HttpReader Reader, HttpResponseHead Head)> OpenAsync(
        string socketPath, string method, string target, string host, string? body = null, CancellationToken cancel = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel).ConfigureAwait(false);
            var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] content = Encoding.UTF8.GetBytes(body ?? "");
            var headers = new HttpHeaders();
            headers.Add("Host", host);
            if (body is not null)
            {
                headers.Add("Content-Type", "application/json");
            }
            headers.Add("Content-Length", content.Length.ToString(CultureInfo.InvariantCulture));
            headers.Add("Connection", "close");
            byte[] request = [.. Encoding.ASCII.GetBytes(new HttpRequestHead(method, target, "HTTP/1.1", headers).Format()), .. content];
            try
            {
                // One write: the server may answer (a 400, say) and close as soon as it has read
                // the head, and a second write would then fail with EPIPE before the answer is read.
                await stream.WriteAsync(request, cancel).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The answer the server sent before closing is still in the receive queue; read it.
            }
            var reader = new HttpReader(stream);
            HttpResponseHead response;
            do
            {
                byte[] head = await reader.ReadHeadAsync(cancel).ConfigureAwait(false)
                    ?? throw new HttpFormatException("the server closed the connection without answering");
                response = HttpHeadParser.ParseResponse(head);
            }
            while (response.IsInterim);
            return (socket, reader, response);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies an answer's body, framed as RFC 9112 §6.3 says: chunked (decoded, or as sent),
    /// Content-Length, or up to the close; none for 204 and 304. At most <see cref="MaxBody"/> bytes.
    /// </summary>
    public static async Task ReadBodyAsync(HttpReader reader, HttpResponseHead response, Stream destination, bool decode, CancellationToken cancel)
    {
        if (response.Status is 204 or 304)
        {
            return;
        }
        var limited = new BoundedWriteStream(destination, MaxBody);
        if (HttpHeadParser.IsChunked(response.Headers))
        {
            await reader.CopyChunkedAsync(limited, cancel, decode).ConfigureAwait(false);
        }
        else if (HttpHeadParser.ContentLength(response.Headers) is { } length)
        {
            await reader.CopyAsync(length, limited, cancel).ConfigureAwait(false);
        }
        else
        {
            await reader.CopyToEndAsync(limited, cancel).ConfigureAwait(false);
        }
    }
}
