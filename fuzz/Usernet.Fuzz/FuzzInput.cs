using System.Buffers.Binary;

namespace Usernet.Fuzz;

/// <summary>
/// Reads a fuzz input as a little program: bytes, numbers and length-prefixed blocks. Past the
/// end every read gives zeros or an empty block, so any input is a valid one and libFuzzer
/// never wastes a run on a "too short" input.
/// </summary>
internal ref struct FuzzInput(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;

    public readonly bool IsEmpty => _rest.IsEmpty;

    public readonly int Remaining => _rest.Length;

    public byte Byte()
    {
        if (_rest.IsEmpty)
        {
            return 0;
        }
        byte value = _rest[0];
        _rest = _rest[1..];
        return value;
    }

    public ushort UInt16()
    {
        if (_rest.Length < 2)
        {
            _rest = [];
            return 0;
        }
        ushort value = BinaryPrimitives.ReadUInt16BigEndian(_rest);
        _rest = _rest[2..];
        return value;
    }

    public bool Bool() => (Byte() & 1) != 0;

    /// <summary>A block of at most <paramref name="max"/> bytes, its length first (one byte, or two when <paramref name="max"/> is over 255).</summary>
    public ReadOnlySpan<byte> Block(int max)
    {
        int length = max > 255 ? UInt16() : Byte();
        return Take(Math.Min(length, max));
    }

    public ReadOnlySpan<byte> Take(int count)
    {
        count = Math.Min(count, _rest.Length);
        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }

    /// <summary>Everything not read yet.</summary>
    public ReadOnlySpan<byte> Rest() => Take(_rest.Length);
}
