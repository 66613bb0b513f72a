using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>
/// A set of TCP ports as containersProxy.transparentPorts writes it: "" (none), "*" (all) or
/// a comma list of ports and ranges ("80,443,8000-8100").
/// </summary>
internal sealed class PortSet
{
    public static readonly PortSet None = new([]);
    public static readonly PortSet All = new([(1, 65535)]);

    private readonly (ushort First, ushort Last)[] _ranges;

    private PortSet((ushort First, ushort Last)[] ranges) => _ranges = ranges;

    public bool IsEmpty => _ranges.Length == 0;

    public IReadOnlyList<(ushort First, ushort Last)> Ranges => _ranges;

    public bool Contains(ushort port)
    {
        foreach (var (first, last) in _ranges)
        {
            if (port >= first && port <= last)
            {
                return true;
            }
        }
        return false;
    }

    public static bool TryParse(string text, [NotNullWhen(true)] out PortSet? set, [NotNullWhen(false)] out string? error)
    {
        set = null;
        error = null;
        string trimmed = text.Trim();
        if (trimmed.Length == 0 || trimmed == "*")
        {
            set = trimmed.Length == 0 ? None : All;
            return true;
        }
        var ranges = new List<(ushort, ushort)>();
        foreach (string item in trimmed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = item.IndexOf('-');
            string firstText = dash < 0 ? item : item[..dash];
            string lastText = dash < 0 ? item : item[(dash + 1)..];
            if (!HostPort.TryParsePort(firstText, out ushort first) || !HostPort.TryParsePort(lastText, out ushort last))
            {
                error = $"\"{item}\" is not a port (1..65535) or a range of ports such as 8000-8100";
                return false;
            }
            if (first > last)
            {
                error = $"range {item} ends before it starts";
                return false;
            }
            ranges.Add((first, last));
        }
        set = new PortSet([.. ranges.Order()]);
        return true;
    }

    public override bool Equals(object? obj) => obj is PortSet other && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override int GetHashCode() => _ranges.Length;

    /// <summary>The canonical text, as it would be typed.</summary>
    public override string ToString() =>
        ReferenceEquals(this, All) || (_ranges.Length == 1 && _ranges[0] == (1, 65535))
            ? "*"
            : string.Join(",", _ranges.Select(r => r.First == r.Last ? r.First.ToString(CultureInfo.InvariantCulture) : $"{r.First}-{r.Last}"));
}
