using System.Text;
using Usernet.Http;

namespace Usernet.Services.Docker;

/// <summary>
/// A write-only stream that cuts what is written into lines and hands each, without its end,
/// to a callback: a stream of JSON lines (Docker's events) read as it comes. A line longer than
/// the limit is an error rather than memory.
/// </summary>
internal sealed class LineSink(Action<string> onLine, int maxLine = LineSink.DefaultMaxLine) : WriteOnlyStream
{
    public const int DefaultMaxLine = 1024 * 1024;

    private readonly MemoryStream _line = new();

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
}
