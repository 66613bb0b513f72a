namespace Usernet.Stack.Tcp;

/// <summary>
/// A TCP sequence number: 32-bit arithmetic that wraps (RFC 9293 §3.4). Comparisons are by
/// signed distance, valid within half the sequence space; there is deliberately no
/// <see cref="IComparable{T}"/>, since the order is not total.
/// </summary>
internal readonly record struct SeqNumber(uint Value)
{
    public static SeqNumber operator +(SeqNumber sequence, int delta) => new((uint)(sequence.Value + delta));

    public static SeqNumber operator +(SeqNumber sequence, uint delta) => new(sequence.Value + delta);

    public static SeqNumber operator -(SeqNumber sequence, int delta) => new((uint)(sequence.Value - delta));

    /// <summary>The signed distance from <paramref name="b"/> to <paramref name="a"/>.</summary>
    public static int operator -(SeqNumber a, SeqNumber b) => (int)(a.Value - b.Value);

    public static bool operator <(SeqNumber a, SeqNumber b) => (int)(a.Value - b.Value) < 0;

    public static bool operator >(SeqNumber a, SeqNumber b) => (int)(a.Value - b.Value) > 0;

    public static bool operator <=(SeqNumber a, SeqNumber b) => (int)(a.Value - b.Value) <= 0;

    public static bool operator >=(SeqNumber a, SeqNumber b) => (int)(a.Value - b.Value) >= 0;

    public static SeqNumber Max(SeqNumber a, SeqNumber b) => a > b ? a : b;

    public static SeqNumber Min(SeqNumber a, SeqNumber b) => a < b ? a : b;

    public override string ToString() => Value.ToString();
}
