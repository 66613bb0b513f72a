namespace Usernet.Http;

/// <summary>
/// A message the peer sent breaks HTTP/1.1's syntax or our limits. The message says how, fit for
/// the body of the answer; <see cref="Status"/> is the status a server answers it with.
/// </summary>
internal sealed class HttpFormatException(string message, int status = HttpFormatException.BadRequest) : Exception(message)
{
    public const int BadRequest = 400;

    /// <summary>Request Header Fields Too Large (RFC 6585 §5).</summary>
    public const int HeadTooLarge = 431;

    /// <summary>400, or 431 for a head over the reader's limit.</summary>
    public int Status { get; } = status;
}
