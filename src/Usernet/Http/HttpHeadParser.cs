using System.Text;

namespace Usernet.Http;

/// <summary>
/// Parses request and response heads (RFC 9112 §2–5) strictly enough that one message can
/// never be read two ways by us and the next hop (request smuggling): no white space before a
/// field's colon, no obsolete line folding, no control characters, one valid Content-Length,
/// and no Content-Length beside Transfer-Encoding. Everything else is a
/// <see cref="HttpFormatException"/> whose message is fit for a 400 body.
/// </summary>
internal static class HttpHeadParser
{
    /// <summary>The most header fields one message may have.</summary>
    public const int MaxFields = 128;

    /// <summary>Where the head ends: the index just past the empty line, or -1 when it is not all there yet.</summary>
    public static int FindEnd(ReadOnlySpan<byte> buffer)
    {
        for (int i = buffer.IndexOf((byte)'\n'); i >= 0 && i < buffer.Length;)
        {
            var rest = buffer[(i + 1)..];
            if (rest.Length >= 1 && rest[0] == '\n')
            {
                return i + 2;
            }
            if (rest.Length >= 2 && rest[0] == '\r' && rest[1] == '\n')
            {
                return i + 3;
            }
            int next = rest.IndexOf((byte)'\n');
            if (next < 0)
            {
                return -1;
            }
            i += 1 + next;
        }
        return -1;
    }

    public static HttpRequestHead ParseRequest(ReadOnlySpan<byte> head)
    {
        var lines = Lines(head);
        string[] parts = lines[0].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new HttpFormatException("the request line is not METHOD TARGET HTTP-VERSION");
        }
        if (!IsToken(parts[0]))
        {
            throw new HttpFormatException("the method is not a token");
        }
        if (parts[1].Any(c => c <= ' ' || c >= 0x7F))
        {
            throw new HttpFormatException("the request target has white space or control characters");
        }
        if (parts[2] is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            throw new HttpFormatException($"the version is not HTTP/1.1 or HTTP/1.0");
        }
        var headers = Fields(lines);
        CheckFraming(headers);
        if (parts[2] == "HTTP/1.1" && !headers.Contains("Host") && parts[0] != "CONNECT" && !parts[1].Contains("://", StringComparison.Ordinal))
        {
            throw new HttpFormatException("an HTTP/1.1 request needs a Host field");
        }
        return new HttpRequestHead(parts[0], parts[1], parts[2], headers);
    }

    public static HttpResponseHead ParseResponse(ReadOnlySpan<byte> head)
    {
        var lines = Lines(head);
        string line = lines[0];
        if (line.Length < 12 || !line.StartsWith("HTTP/1.", StringComparison.Ordinal) || line[8] != ' '
            || !int.TryParse(line.AsSpan(9, 3), System.Globalization.NumberStyles.None, null, out int status) || status < 100
            || (line.Length > 12 && line[12] != ' '))
        {
            throw new HttpFormatException("the status line is not HTTP/1.x CODE REASON");
        }
        var headers = Fields(lines);
        CheckFraming(headers);
        return new HttpResponseHead(line[..8], status, line.Length > 13 ? line[13..] : "", headers);
    }

    /// <summary>The body's length from Content-Length; null when there is none; a chunked body is framed by its chunks.</summary>
    public static long? ContentLength(HttpHeaders headers)
    {
        string? text = headers.Get("Content-Length");
        return text is null ? null : long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static bool IsChunked(HttpHeaders headers) => headers.Contains("Transfer-Encoding");

    private static List<string> Lines(ReadOnlySpan<byte> head)
    {
        // Latin-1 keeps every byte one char, so nothing the peer sends is lost or merged.
        string text = Encoding.Latin1.GetString(head);
        var lines = new List<string>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.EndsWith('\r') ? raw[..^1] : raw;
            if (line.Contains('\r') || line.Contains('\0'))
            {
                throw new HttpFormatException("a bare CR or NUL in the head");
            }
            lines.Add(line);
        }
        // A client may send empty lines before a request (RFC 9112 §2.2).
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        if (lines.Count == 0)
        {
            throw new HttpFormatException("an empty head");
        }
        return lines;
    }

    private static HttpHeaders Fields(List<string> lines)
    {
        var headers = new HttpHeaders();
        for (int i = 1; i < lines.Count; i++)
        {
            string line = lines[i];
            if (line[0] is ' ' or '\t')
            {
                throw new HttpFormatException("obsolete line folding in the header fields");
            }
            int colon = line.IndexOf(':');
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon)))
            {
                throw new HttpFormatException($"header line {i} is not NAME: VALUE");
            }
            string value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => c < ' ' && c != '\t' || c == 0x7F))
            {
                throw new HttpFormatException($"the value of {line[..colon]} has control characters");
            }
            if (headers.Count >= MaxFields)
            {
                throw new HttpFormatException($"more than {MaxFields} header fields");
            }
            headers.Add(line[..colon], value);
        }
        return headers;
    }

    private static void CheckFraming(HttpHeaders headers)
    {
        var lengths = headers.GetAll("Content-Length").SelectMany(v => v.Split(',')).Select(v => v.Trim()).Distinct().ToList();
        if (lengths.Count > 1)
        {
            throw new HttpFormatException("Content-Length fields disagree");
        }
        if (lengths.Count == 1 && (lengths[0].Length is 0 or > 18 || !lengths[0].All(char.IsAsciiDigit)))
        {
            throw new HttpFormatException("Content-Length is not a number");
        }
        if (lengths.Count == 1)
        {
            headers.Set("Content-Length", lengths[0]);
        }
        var codings = headers.GetAll("Transfer-Encoding").SelectMany(v => v.Split(',')).Select(v => v.Trim()).Where(v => v.Length > 0).ToList();
        if (codings.Count == 0)
        {
            headers.Remove("Transfer-Encoding");
            return;
        }
        if (lengths.Count > 0)
        {
            throw new HttpFormatException("both Content-Length and Transfer-Encoding");
        }
        if (codings.Count != 1 || !string.Equals(codings[0], "chunked", StringComparison.OrdinalIgnoreCase))
        {
            throw new HttpFormatException("a Transfer-Encoding other than chunked");
        }
    }

    private static bool IsToken(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return text.Length > 0;
    }
}
