using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Numerics;

namespace Usernet.Wire;

/// <summary>
/// The ones' complement sum of RFC 1071. Sums are accumulated unfolded in a ulong, so that
/// pseudo-header, header and payload can be added in any order and folded once.
/// </summary>
internal static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/>, taken as big-endian 16-bit words, to <paramref name="sum"/>.</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        // Summing native-endian 16-bit words and swapping once at the end gives the same
        // ones' complement result as summing big-endian ones (RFC 1071 §2(B)). Every frame's
        // payload passes through here (verified from the guest, computed towards it), so the
        // sum is vectorized: carries are avoided rather than propagated, by adding 16-bit
        // halves into 32-bit lanes that cannot overflow within a block.
        ulong acc = SumWords(ref data);
        acc += SumTail(data);
        uint folded = FoldTo16(acc);
        // The native-endian sum is byte-swapped relative to the big-endian one.
        ushort swapped = BinaryPrimitives.ReverseEndianness((ushort)folded);
        return sum + swapped;
    }

    /// <summary>
    /// Sums the 16-bit words of whole vectors, then of 8-byte words, and leaves
    /// <paramref name="data"/> at the fewer than 8 bytes that remain.
    /// </summary>
    private static ulong SumWords(ref ReadOnlySpan<byte> data)
    {
        ulong acc = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var low16 = new Vector<uint>(0xFFFF);
            while (data.Length >= Vector<byte>.Count)
            {
                // Each lane gains at most 0xFFFF per vector: 65536 vectors fit in 32 bits.
                int vectors = Math.Min(data.Length / Vector<byte>.Count, 65536);
                var low = Vector<uint>.Zero;
                var high = Vector<uint>.Zero;
                ReadOnlySpan<Vector<uint>> block = MemoryMarshal.Cast<byte, Vector<uint>>(data)[..vectors];
                foreach (var lanes in block)
                {
                    low += lanes & low16;
                    high += Vector.ShiftRightLogical(lanes, 16);
                }
                acc += Widen(low) + Widen(high);
                data = data[(vectors * Vector<byte>.Count)..];
            }
        }
        // 32-bit halves of 64-bit words into a 64-bit sum: no carry is lost below 2^32 words.
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong word in words)
        {
            acc += (uint)word;
            acc += word >> 32;
        }
        data = data[(words.Length * sizeof(ulong))..];
        return acc;
    }

    private static ulong Widen(Vector<uint> lanes)
    {
        Vector.Widen(lanes, out var lower, out var upper);
        return Vector.Sum(lower + upper);
    }

    /// <summary>Fewer than 8 bytes, as native-endian words, an odd last byte padded with zero.</summary>
    private static ulong SumTail(ReadOnlySpan<byte> data)
    {
        ulong last = 0;
        for (int i = 0; i < data.Length; i++)
        {
            // Little-endian host: byte i of a big-endian word sequence lands at bit 8*(i%8).
            last |= (ulong)data[i] << (8 * i);
        }
        return (uint)last + (last >> 32);
    }

    public static ulong AddWord(ulong sum, ushort word) => sum + word;

    public static ulong AddUInt32(ulong sum, uint value) => sum + (value >> 16) + (value & 0xFFFF);

    /// <summary>The IPv4 pseudo-header of RFC 793 §3.1 / RFC 768.</summary>
    public static ulong PseudoHeaderV4(Ipv4Address source, Ipv4Address destination, byte protocol, int length)
    {
        ulong sum = AddUInt32(0, source.Value);
        sum = AddUInt32(sum, destination.Value);
        return sum + protocol + (uint)length;
    }

    /// <summary>The IPv6 pseudo-header of RFC 8200 §8.1.</summary>
    public static ulong PseudoHeaderV6(Ipv6Address source, Ipv6Address destination, byte nextHeader, int length)
    {
        ulong sum = 0;
        sum = AddUInt128(sum, source.Value);
        sum = AddUInt128(sum, destination.Value);
        sum = AddUInt32(sum, (uint)length);
        return sum + nextHeader;
    }

    private static ulong AddUInt128(ulong sum, UInt128 value)
    {
        sum = AddUInt32(sum, (uint)(value >> 96));
        sum = AddUInt32(sum, (uint)(value >> 64));
        sum = AddUInt32(sum, (uint)(value >> 32));
        return AddUInt32(sum, (uint)value);
    }

    /// <summary>
    /// Folds without complementing: what a partial checksum's field holds (the pseudo-header's
    /// sum), for the receiver to sum the rest onto.
    /// </summary>
    public static ushort Fold(ulong sum) => (ushort)FoldTo16(sum);

    /// <summary>Folds and complements: the value that goes in the header.</summary>
    public static ushort Finish(ulong sum) => (ushort)~FoldTo16(sum);

    /// <summary>Checksum over <paramref name="data"/> alone, as for IPv4 and ICMPv4 headers.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>
    /// Completes a checksum its sender left partial (checksum offload): the field at
    /// <paramref name="offset"/> from <paramref name="start"/> holds the pseudo-header's sum,
    /// so the sum of everything from <paramref name="start"/> on, folded, is the checksum. As
    /// Linux does, a result of zero is sent as all ones, which UDP requires and TCP takes as
    /// the same value. Returns false when the positions do not fit the data.
    /// </summary>
    public static bool CompletePartial(Span<byte> data, int start, int offset)
    {
        if (start < 0 || offset < 0 || (long)start + offset + 2 > data.Length)
        {
            return false;
        }
        ushort checksum = Finish(Add(0, data[start..]));
        BinaryPrimitives.WriteUInt16BigEndian(data[(start + offset)..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return true;
    }

    /// <summary>True when data that includes its checksum field sums to all ones.</summary>
    public static bool IsValid(ulong sumIncludingChecksum) => FoldTo16(sumIncludingChecksum) == 0xFFFF;

    private static uint FoldTo16(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint)sum;
    }
}
