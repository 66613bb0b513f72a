using System.Text;

namespace Usernet.Services.Docker;

/// <summary>
/// A write-only stream that cuts what is written into lines and hands each, without its end,
/// to a callback: a stream of JSON lines (Docker's events) read as it comes. A line longer than
/// the limit is an error rather than memory.
/// </summary>
internal sealed class LineSink(Action<string> onLine, int maxLine = LineSink.DefaultMaxLine) : Stream
{
    public const int DefaultMaxLine = 1024 * 1024;

    private readonly MemoryStream _line = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int newline = buffer.IndexOf((byte)'\n');
            var part = newline < 0 ? buffer : buffer[..newline];
            if (_line.Length + part.Length > maxLine)
            {
                throw new IOException($"a line longer than {maxLine} bytes");
            }
            _line.Write(part);
            if (newline < 0)
            {
                return;
            }
            string line = Encoding.UTF8.GetString(_line.GetBuffer(), 0, (int)_line.Length).TrimEnd('\r');
            _line.SetLength(0);
            onLine(line);
            buffer = buffer[(newline + 1)..];
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
