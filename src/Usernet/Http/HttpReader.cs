using System.Text;

namespace Usernet.Http;

/// <summary>
/// Reads one side of an HTTP connection: heads up to a limit, lines, and bodies copied on,
/// through one buffer, so that bytes read past a head (a pipelined request, the start of a
/// tunnel) are never lost. Owned by one task at a time.
/// </summary>
internal sealed class HttpReader(Stream stream, int maxHead = HttpReader.DefaultMaxHead)
{
    /// <summary>The largest request or response head: beyond it the message is refused.</summary>
    public const int DefaultMaxHead = 32 * 1024;

    /// <summary>The buffer of a reader with the default head limit: what one reader holds.</summary>
    public const int DefaultBufferLength = 64 * 1024;

    private const int MaxLine = 4096;

    private readonly byte[] _buffer = new byte[Math.Max(maxHead, DefaultBufferLength)];
    private int _start;
    private int _end;
    private CancellationTokenSource? _readDeadline;

    public Stream Stream => stream;

    /// <summary>
    /// How long one read from the stream may wait for bytes before it fails with a
    /// <see cref="TimeoutException"/>; infinite (the default) for no limit. It bounds the
    /// silence between reads, not the whole message, so a long body takes as long as it needs
    /// while one that stops sending ends. Set for a phase (a request body), not a connection.
    /// </summary>
    public TimeSpan ReadIdleLimit { get; set; } = Timeout.InfiniteTimeSpan;

    public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(_start, _end - _start);

    /// <summary>Reads more into the buffer; false at the end of the stream.</summary>
    public async ValueTask<bool> FillAsync(CancellationToken cancel)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            return true;
        }
        int n = ReadIdleLimit == Timeout.InfiniteTimeSpan
            ? await stream.ReadAsync(_buffer.AsMemory(_end), cancel).ConfigureAwait(false)
            : await ReadWithinLimitAsync(cancel).ConfigureAwait(false);
        _end += n;
        return n > 0;
    }

    private async ValueTask<int> ReadWithinLimitAsync(CancellationToken cancel)
    {
        var deadline = _readDeadline ??= new CancellationTokenSource();
        deadline.CancelAfter(ReadIdleLimit);
        using var both = cancel.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancel, deadline.Token) : null;
        try
        {
            return await stream.ReadAsync(_buffer.AsMemory(_end), both?.Token ?? deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing came for {ReadIdleLimit.TotalSeconds:0.#} s");
        }
        finally
        {
            // Stops the timer for the next read; a source whose timer fired meanwhile is not reused.
            if (!deadline.TryReset())
            {
                deadline.Dispose();
                _readDeadline = null;
            }
        }
    }

    /// <summary>The next head's bytes; null at a clean end of stream before any byte of it.</summary>
    public async ValueTask<byte[]?> ReadHeadAsync(CancellationToken cancel)
    {
        while (true)
        {
            int end = HttpHeadParser.FindEnd(_buffer.AsSpan(_start, _end - _start));
            if (end > maxHead)
            {
                throw new HttpFormatException($"the head is larger than {maxHead / 1024} KiB", HttpFormatException.HeadTooLarge);
            }
            if (end > 0)
            {
                byte[] head = _buffer.AsSpan(_start, end).ToArray();
                _start += end;
                return head;
            }
            if (_end - _start >= maxHead)
            {
                throw new HttpFormatException($"the head is larger than {maxHead / 1024} KiB", HttpFormatException.HeadTooLarge);
            }
            bool empty = _start == _end;
            if (!await FillAsync(cancel).ConfigureAwait(false))
            {
                return empty ? null : throw new HttpFormatException("the connection ended within a head");
            }
        }
    }

    public ValueTask<string> ReadLineAsync(CancellationToken cancel) => ReadLineAsync(null, cancel);

    /// <summary>The next line without its end; its bytes as received, end included, also go to <paramref name="copy"/>.</summary>
    private async ValueTask<string> ReadLineAsync(Stream? copy, CancellationToken cancel)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                string line = Encoding.Latin1.GetString(_buffer, _start, newline);
                if (copy is not null)
                {
                    await copy.WriteAsync(_buffer.AsMemory(_start, newline + 1), cancel).ConfigureAwait(false);
                }
                _start += newline + 1;
                return line.EndsWith('\r') ? line[..^1] : line;
            }
            if (_end - _start > MaxLine)
            {
                throw new HttpFormatException("a line of a chunked body is too long");
            }
            if (!await FillAsync(cancel).ConfigureAwait(false))
            {
                throw new HttpFormatException("the connection ended within a chunked body");
            }
        }
    }

    /// <summary>Copies exactly <paramref name="count"/> bytes to <paramref name="destination"/>.</summary>
    public async ValueTask CopyAsync(long count, Stream destination, CancellationToken cancel)
    {
        while (count > 0)
        {
            if (_start == _end && !await FillAsync(cancel).ConfigureAwait(false))
            {
                throw new IOException("the connection ended within a body");
            }
            int n = (int)Math.Min(count, _end - _start);
            await destination.WriteAsync(_buffer.AsMemory(_start, n), cancel).ConfigureAwait(false);
            _start += n;
            count -= n;
        }
    }

    /// <summary>Copies everything up to the end of the stream.</summary>
    public async ValueTask CopyToEndAsync(Stream destination, CancellationToken cancel)
    {
        do
        {
            if (_end > _start)
            {
                await destination.WriteAsync(_buffer.AsMemory(_start, _end - _start), cancel).ConfigureAwait(false);
                _start = _end;
            }
        }
        while (await FillAsync(cancel).ConfigureAwait(false));
    }

    /// <summary>
    /// Relays a chunked body (RFC 9112 §7.1), checking each chunk's size line and the CRLF after
    /// its data, and writing it out in canonical form with its trailer fields; or, with
    /// <paramref name="decode"/>, the data alone (RFC 9112 §7.1.3), for a recipient that does not
    /// speak chunked, whose message then ends where the connection does.
    /// </summary>
    public ValueTask CopyChunkedAsync(Stream destination, CancellationToken cancel, bool decode = false) =>
        CopyChunkedAsync(destination, decode ? ChunkedCopy.Decoded : ChunkedCopy.Canonical, cancel);

    /// <summary>
    /// Relays a chunked body checked as <see cref="CopyChunkedAsync(Stream, CancellationToken, bool)"/>
    /// does, but as the sender wrote it, byte for byte: chunk extensions, the case of the sizes
    /// and the line ends stay as they came (a tunnel such as the Docker API proxy changes nothing).
    /// </summary>
    public ValueTask CopyChunkedVerbatimAsync(Stream destination, CancellationToken cancel) =>
        CopyChunkedAsync(destination, ChunkedCopy.Verbatim, cancel);

    private enum ChunkedCopy
    {
        Canonical,
        Decoded,
        Verbatim,
    }

    private async ValueTask CopyChunkedAsync(Stream destination, ChunkedCopy mode, CancellationToken cancel)
    {
        var raw = mode == ChunkedCopy.Verbatim ? destination : null;
        while (true)
        {
            string line = await ReadLineAsync(raw, cancel).ConfigureAwait(false);
            long size = ParseChunkSize(line);
            if (size == 0)
            {
                var trailer = new StringBuilder("0\r\n");
                int fields = 0;
                for (string field; (field = await ReadLineAsync(raw, cancel).ConfigureAwait(false)).Length > 0;)
                {
                    if (++fields > HttpHeadParser.MaxFields || field.IndexOf(':') <= 0)
                    {
                        throw new HttpFormatException("an invalid trailer in a chunked body");
                    }
                    trailer.Append(field).Append("\r\n");
                }
                trailer.Append("\r\n");
                if (mode == ChunkedCopy.Canonical)
                {
                    await destination.WriteAsync(Encoding.Latin1.GetBytes(trailer.ToString()), cancel).ConfigureAwait(false);
                }
                return;
            }
            if (mode == ChunkedCopy.Canonical)
            {
                await destination.WriteAsync(Encoding.ASCII.GetBytes($"{size:x}\r\n"), cancel).ConfigureAwait(false);
            }
            await CopyAsync(size, destination, cancel).ConfigureAwait(false);
            if (await ReadLineAsync(raw, cancel).ConfigureAwait(false) is { Length: > 0 })
            {
                throw new HttpFormatException("a chunk's data is longer than its size");
            }
            if (mode == ChunkedCopy.Canonical)
            {
                await destination.WriteAsync("\r\n"u8.ToArray(), cancel).ConfigureAwait(false);
            }
        }
    }

    /// <summary>chunk-size [; chunk-ext]: hexadecimal, at most 15 digits so that it fits a long.</summary>
    public static long ParseChunkSize(string line)
    {
        int end = line.IndexOf(';');
        string digits = (end < 0 ? line : line[..end]).TrimEnd(' ', '\t');
        if (digits.Length is 0 or > 15 || !digits.All(char.IsAsciiHexDigit))
        {
            throw new HttpFormatException("an invalid chunk size in a chunked body");
        }
        return long.Parse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
    }
}
