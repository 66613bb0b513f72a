namespace Usernet.Services.Proxy;

/// <summary>
/// Where a guest's request body goes: written on to <paramref name="inner"/> (the upstream)
/// until a write to it fails, then discarded. The body is thus always read to its end, and the
/// guest's connection stays in step with its requests even when the upstream answered early and
/// stopped reading (or went away); <see cref="Failed"/> says the upstream did not get it all.
/// A write that makes no progress for <paramref name="writeIdleLimit"/> (an upstream that
/// stopped reading without answering) fails the same way, so the body cannot hang on it.
/// </summary>
internal sealed class ForwardOrDiscardStream(Stream inner, TimeSpan writeIdleLimit) : Stream
{
    private volatile bool _failed;

    /// <summary>Whether a write to the upstream failed, so that the rest was discarded.</summary>
    public bool Failed => _failed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_failed)
        {
            return;
        }
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stalled.CancelAfter(writeIdleLimit);
        try
        {
            await inner.WriteAsync(buffer, stalled.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _failed = true;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
