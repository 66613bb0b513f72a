using Usernet.Http;

namespace Usernet.Services.Proxy;

/// <summary>Reads the Host field from the start of a plain HTTP/1 request.</summary>
internal static class HttpHostPeek
{
    public static PeekResult TryReadHost(ReadOnlySpan<byte> data, out string? host)
    {
        host = null;
        int space = data.IndexOf((byte)' ');
        var method = space < 0 ? data : data[..space];
        foreach (byte b in method)
        {
            if (b is < (byte)'A' or > (byte)'Z')
            {
                return PeekResult.NotThis;
            }
        }
        if (space < 0)
        {
            return method.Length < 16 ? PeekResult.NeedMore : PeekResult.NotThis;
        }
        int end = HttpHeadParser.FindEnd(data);
        if (end < 0)
        {
            return PeekResult.NeedMore;
        }
        try
        {
            var request = HttpHeadParser.ParseRequest(data[..end]);
            host = request.Headers.Get("Host");
            return host is { Length: > 0 } ? PeekResult.Found : PeekResult.NoName;
        }
        catch (HttpFormatException)
        {
            return PeekResult.NotThis;
        }
    }
}
