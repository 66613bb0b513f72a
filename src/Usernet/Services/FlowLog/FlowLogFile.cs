using System.Threading.Channels;
using Usernet.Platform;

namespace Usernet.Services.FlowLog;

/// <summary>
/// The log.flows file: lines appended by a thread of its own, so that a slow disk never holds
/// the loop. Created mode 0600 (it says what the guests did), never through a symbolic link;
/// past <c>maxBytes</c> it is renamed to PATH.1 (replacing the one before) and started again.
/// A write that fails (a full disk) is logged once and the lines are dropped until one works.
/// </summary>
internal sealed class FlowLogFile : IAsyncDisposable
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(FlowLog.QueueLimit)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private readonly Task _writer;
    private FileStream _stream;
    private bool _failing;

    /// <summary>Opens (or appends to) <paramref name="path"/> now, so that a path that cannot be written stops the start.</summary>
    public FlowLogFile(string path, long maxBytes)
    {
        _path = path;
        _maxBytes = maxBytes;
        _stream = Open(path);
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Lines dropped: the writer was too far behind, or the file could not be written.</summary>
    public long Dropped;

    public long Rotations { get; private set; }

    /// <summary>Queues a line; on any thread.</summary>
    public void Write(string line)
    {
        if (!_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref Dropped);
        }
    }

    private static FileStream Open(string path)
    {
        if (new FileInfo(path).LinkTarget is not null)
        {
            throw new IOException($"log.flows {path} is a symbolic link: name the file itself");
        }
        try
        {
            return OwnerOnlyFiles.Create(() => new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"log.flows {path}: {e.Message}", e);
        }
    }

    private async Task WriteAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out string? line))
            {
                WriteLine(line);
            }
            try
            {
                _stream.Flush();
            }
            catch (IOException)
            {
            }
        }
        _stream.Dispose();
    }

    private void WriteLine(string line)
    {
        byte[] bytes = FlowLog.Bytes(line);
        try
        {
            if (!_stream.CanWrite)
            {
                // A rotation failed after the old file was closed: try again with each line.
                _stream = Open(_path);
            }
            if (_stream.Length > 0 && _stream.Length + bytes.Length > _maxBytes)
            {
                _stream.Dispose();
                File.Move(_path, _path + ".1", overwrite: true);
                _stream = Open(_path);
                Rotations++;
            }
            _stream.Write(bytes);
            _failing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Interlocked.Increment(ref Dropped);
            if (!_failing)
            {
                _failing = true;
                Log.Error($"log.flows {_path}: {e.Message}; lines are dropped until a write works");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
