namespace Usernet.Http;

/// <summary>A request line and its header fields (RFC 9112 §3).</summary>
internal sealed class HttpRequestHead(string method, string target, string version, HttpHeaders headers)
{
    public string Method { get; } = method;

    /// <summary>absolute-form (http://host/path), authority-form (host:port, CONNECT) or origin-form (/path).</summary>
    public string Target { get; set; } = target;

    public string Version { get; } = version;

    public HttpHeaders Headers { get; } = headers;

    public bool IsHttp10 => Version == "HTTP/1.0";

    /// <summary>Whether the client wants the connection kept after this exchange (RFC 9112 §9.3).</summary>
    public bool KeepAlive => IsHttp10
        ? Headers.HasToken("Connection", "keep-alive") || Headers.HasToken("Proxy-Connection", "keep-alive")
        : !Headers.HasToken("Connection", "close") && !Headers.HasToken("Proxy-Connection", "close");

    public string Format()
    {
        var text = new System.Text.StringBuilder();
        text.Append(Method).Append(' ').Append(Target).Append(' ').Append(Version).Append("\r\n");
        Headers.WriteTo(text);
        text.Append("\r\n");
        return text.ToString();
    }
}
