namespace Usernet.Http;

/// <summary>Writes on to <paramref name="inner"/>, and refuses to take more than <paramref name="limit"/> bytes in all.</summary>
internal sealed class BoundedWriteStream(Stream inner, long limit) : WriteOnlyStream
{
    private long _written;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Count(buffer.Length);
        inner.Write(buffer);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Count(buffer.Length);
        return inner.WriteAsync(buffer, cancellationToken);
    }

    private void Count(int length)
    {
        _written += length;
        if (_written > limit)
        {
            throw new HttpFormatException($"the answer's body is larger than {limit / (1024 * 1024)} MiB");
        }
    }
}
