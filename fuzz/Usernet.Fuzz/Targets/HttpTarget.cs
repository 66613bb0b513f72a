using System.Text;
using Usernet.Http;
using Usernet.Services.Proxy;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// What a guest sends the HTTP proxy, read as the proxy reads it: heads (requests, or with bit
/// 0 of the first byte the upstream's responses) one after another on a keep-alive connection,
/// their targets and Host fields, their bodies by Content-Length or chunked (bit 1: decoded for
/// an HTTP/1.0 client), and the forwarded head without its hop-by-hop fields. Bit 2 also peeks
/// at the bytes as the transparent proxy does (the HTTP Host field, the TLS server name).
/// A malformed message may only end in <see cref="HttpFormatException"/> (the proxy's 400) or
/// an <see cref="IOException"/> (the connection ended early); anything else escaped.
/// </summary>
internal sealed class HttpTarget : IFuzzTarget
{
    public void Run(ReadOnlySpan<byte> data)
    {
        var input = new FuzzInput(data);
        byte mode = input.Byte();
        byte[] bytes = input.Rest().ToArray();
        if ((mode & 4) != 0)
        {
            HttpHostPeek.TryReadHost(bytes, out _);
            TlsClientHello.TryReadServerName(bytes, out _);
        }
        var reader = new HttpReader(new MemoryStream(bytes, writable: false), maxHead: 4096);
        try
        {
            for (int messages = 0; messages < 16; messages++)
            {
                byte[]? head = Wait(reader.ReadHeadAsync(CancellationToken.None));
                if (head is null)
                {
                    return;
                }
                HttpHeaders headers;
                if ((mode & 1) != 0)
                {
                    var response = HttpHeadParser.ParseResponse(head);
                    headers = response.Headers;
                    _ = response.Format();
                }
                else
                {
                    var request = HttpHeadParser.ParseRequest(head);
                    headers = request.Headers;
                    ProxyTarget.TryParseAuthority(request.Target, request.Method == "CONNECT" ? 0 : 80, out _);
                    if (headers.Get("Host") is { } host)
                    {
                        ProxyTarget.TryParseAuthority(host, 80, out _);
                    }
                    _ = request.KeepAlive;
                    headers.RemoveHopByHop();
                    _ = request.Format();
                }
                ReadBody(reader, headers, decode: (mode & 2) != 0);
            }
        }
        catch (Exception e) when (e is HttpFormatException or IOException)
        {
        }
    }

    private static void ReadBody(HttpReader reader, HttpHeaders headers, bool decode)
    {
        if (HttpHeadParser.IsChunked(headers))
        {
            Wait(reader.CopyChunkedAsync(Stream.Null, CancellationToken.None, decode));
        }
        else if (HttpHeadParser.ContentLength(headers) is { } length)
        {
            Wait(reader.CopyAsync(length, Stream.Null, CancellationToken.None));
        }
    }

    /// <summary>Over a MemoryStream every read completes at once.</summary>
    private static T Wait<T>(ValueTask<T> task) => task.AsTask().GetAwaiter().GetResult();

    private static void Wait(ValueTask task) => task.AsTask().GetAwaiter().GetResult();
}
