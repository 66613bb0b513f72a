namespace Usernet.Http;

/// <summary>A status line and its header fields (RFC 9112 §4).</summary>
internal sealed class HttpResponseHead(string version, int status, string reason, HttpHeaders headers)
{
    public string Version { get; } = version;

    public int Status { get; } = status;

    public string Reason { get; } = reason;

    public HttpHeaders Headers { get; } = headers;

    public bool IsInterim => Status is >= 100 and < 200;

    public string Format()
    {
        var text = new System.Text.StringBuilder();
        text.Append("HTTP/1.1 ").Append(Status).Append(' ').Append(Reason).Append("\r\n");
        Headers.WriteTo(text);
        text.Append("\r\n");
        return text.ToString();
    }
}
