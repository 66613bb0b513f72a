using System.Text;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// The lines a program wrote to one stream, within a limit: the first half of the limit and the
/// most recent half, with a note of how much between them was dropped, so that a chatty program
/// that runs for long cannot fill the test's memory, and a failure still shows how it began and
/// how it ended.
/// </summary>
internal sealed class BoundedOutput(int limit)
{
    private readonly int _half = limit / 2;
    private readonly StringBuilder _head = new();
    private readonly Queue<string> _tail = new();
    private readonly Lock _lock = new();
    private int _tailLength;
    private long _dropped;

    /// <summary>Whether anything was dropped: the text is then not the whole output.</summary>
    public bool Truncated
    {
        get
        {
            lock (_lock)
            {
                return _dropped > 0;
            }
        }
    }

    public void AppendLine(string line)
    {
        string entry = line.Length < _half ? line + "\n" : line[..(_half - 1)] + "\n";
        lock (_lock)
        {
            if (_tail.Count == 0 && _head.Length + entry.Length <= _half)
            {
                _head.Append(entry);
                return;
            }
            _tail.Enqueue(entry);
            _tailLength += entry.Length;
            while (_tailLength > _half)
            {
                string oldest = _tail.Dequeue();
                _tailLength -= oldest.Length;
                _dropped += oldest.Length;
            }
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            var text = new StringBuilder(_head.Length + _tailLength + 64).Append(_head);
            if (_dropped > 0)
            {
                text.Append($"[... {_dropped} characters dropped ...]\n");
            }
            foreach (string entry in _tail)
            {
                text.Append(entry);
            }
            return text.ToString();
        }
    }
}
