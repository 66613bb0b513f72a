namespace Usernet.Http;

/// <summary>The reason phrases of the status codes we send (RFC 9110 §15).</summary>
internal static class HttpStatus
{
    /// <summary>The phrase for <paramref name="status"/>; empty for one we never send, which RFC 9112 §4 allows.</summary>
    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
}
