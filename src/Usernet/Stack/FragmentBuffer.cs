using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Usernet.Stack;

/// <summary>
/// One datagram being put together from fragments: the bytes received so far and where they
/// go. Protocol-neutral, so that IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) reassembly share
/// it: offsets are payload offsets in multiples of 8, the last fragment fixes the length, and
/// the header of the reassembled datagram is the one of the fragment at offset 0.
///
/// Overlapping fragments drop the datagram (RFC 5722 for IPv6; Linux does the same for IPv4
/// since 2018, as overlaps only serve to evade filters), while a fragment identical in place
/// and length to one already held is a duplicate and ignored.
///
/// Ownership: the payload array is rented from <see cref="ArrayPool{T}.Shared"/> on the first
/// fragment and returned by <see cref="Release"/>; the range and header arrays belong to this
/// object, which the owner reuses for datagram after datagram.
/// </summary>
internal sealed class FragmentBuffer
{
    private const int MinRent = 2048;

    // Received payload ranges, sorted by start and disjoint.
    private readonly (int Start, int End)[] _ranges;
    private readonly byte[] _header;
    private readonly int _minHeaderLength;
    private readonly int _maxDatagramLength;

    // Payload at offset 0 while fragments arrive; header then payload once complete.
    private byte[]? _data;
    private int _rangeCount;
    private int _headerLength;
    private int _received;
    private int _highestEnd;
    private int _payloadLength;
    private int _datagramLength;

    /// <param name="maxFragments">Distinct fragments that one datagram may take.</param>
    /// <param name="minHeaderLength">The header length to assume before the first fragment is seen.</param>
    /// <param name="maxHeaderLength">The longest header the fragment at offset 0 may bring.</param>
    /// <param name="maxDatagramLength">The longest datagram, header included, that may result.</param>
    public FragmentBuffer(int maxFragments, int minHeaderLength, int maxHeaderLength, int maxDatagramLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFragments);
        _ranges = new (int, int)[maxFragments];
        _header = new byte[maxHeaderLength];
        _minHeaderLength = minHeaderLength;
        _maxDatagramLength = maxDatagramLength;
        Start(Instant.Zero);
    }

    /// <summary>When the first fragment arrived; the timeout counts from here.</summary>
    public Instant Created { get; private set; }

    /// <summary>The reassembled datagram, header then payload, once <see cref="Add"/> returned Complete.</summary>
    public Span<byte> Datagram => _data.AsSpan(0, _datagramLength);

    /// <summary>Begins a new datagram. The previous one must have been released.</summary>
    public void Start(Instant created)
    {
        Created = created;
        _rangeCount = 0;
        _headerLength = -1;
        _received = 0;
        _highestEnd = 0;
        _payloadLength = -1;
        _datagramLength = 0;
    }

    /// <summary>
    /// Adds the payload of one fragment at byte <paramref name="offset"/>. The fragment's
    /// <paramref name="header"/> is kept if it is the one at offset 0. Anything but Accepted,
    /// Complete and Duplicate means the datagram is beyond repair: the owner drops it.
    /// </summary>
    public FragmentVerdict Add(int offset, ReadOnlySpan<byte> payload, bool isLast, ReadOnlySpan<byte> header)
    {
        int end = offset + payload.Length;
        if (IsMalformed(offset, payload.Length, isLast))
        {
            return FragmentVerdict.Malformed;
        }
        if (offset == 0 && (header.Length < _minHeaderLength || header.Length > _header.Length))
        {
            return FragmentVerdict.Malformed;
        }

        int at = FirstRangeAtOrAfter(offset);
        if (at < _rangeCount && _ranges[at] == (offset, end))
        {
            return FragmentVerdict.Duplicate;
        }
        if ((at > 0 && _ranges[at - 1].End > offset) || (at < _rangeCount && _ranges[at].Start < end))
        {
            return FragmentVerdict.Overlap;
        }

        // The last fragment fixes the length; nothing may disagree with it or lie beyond it.
        bool disagrees = isLast
            ? (_payloadLength >= 0 && end != _payloadLength) || end < _highestEnd
            : _payloadLength >= 0 && end > _payloadLength;
        if (disagrees)
        {
            return FragmentVerdict.Malformed;
        }

        int headerLength = offset == 0 ? header.Length : Math.Max(_headerLength, _minHeaderLength);
        if (headerLength + Math.Max(end, _highestEnd) > _maxDatagramLength)
        {
            return FragmentVerdict.TooLarge;
        }
        if (_rangeCount == _ranges.Length)
        {
            return FragmentVerdict.TooManyFragments;
        }

        EnsureCapacity(end);
        payload.CopyTo(_data.AsSpan(offset));
        Array.Copy(_ranges, at, _ranges, at + 1, _rangeCount - at);
        _ranges[at] = (offset, end);
        _rangeCount++;
        _received += payload.Length;
        _highestEnd = Math.Max(_highestEnd, end);
        if (isLast)
        {
            _payloadLength = end;
        }
        if (offset == 0)
        {
            header.CopyTo(_header);
            _headerLength = header.Length;
        }

        // Ranges never overlap, so as many bytes as the length means no hole is left; and
        // the hole at 0 being filled means the header is there.
        if (_payloadLength < 0 || _received != _payloadLength)
        {
            return FragmentVerdict.Accepted;
        }
        Assemble();
        return FragmentVerdict.Complete;
    }

    /// <summary>
    /// Whether a fragment is wrong in itself, whatever else arrived. Only the last fragment may
    /// end off an 8-byte boundary (RFC 791 §3.2, RFC 8200 §4.5); an empty fragment carries
    /// nothing, and Linux drops it too.
    /// </summary>
    public static bool IsMalformed(int offset, int length, bool isLast) =>
        length == 0 || offset % 8 != 0 || (!isLast && length % 8 != 0);

    /// <summary>Returns the payload array to the pool. The buffer can then <see cref="Start"/> again.</summary>
    public void Release()
    {
        if (_data is not null)
        {
            ArrayPool<byte>.Shared.Return(_data);
            _data = null;
        }
        _datagramLength = 0;
    }

    private int FirstRangeAtOrAfter(int offset)
    {
        int low = 0;
        int high = _rangeCount;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_ranges[middle].Start < offset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    /// <summary>Moves the payload up behind the header, in place when the array has room.</summary>
    private void Assemble()
    {
        int length = _headerLength + _payloadLength;
        if (_data!.Length < length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(length);
            _data.AsSpan(0, _payloadLength).CopyTo(larger.AsSpan(_headerLength));
            ArrayPool<byte>.Shared.Return(_data);
            _data = larger;
        }
        else
        {
            _data.AsSpan(0, _payloadLength).CopyTo(_data.AsSpan(_headerLength));
        }
        _header.AsSpan(0, _headerLength).CopyTo(_data);
        _datagramLength = length;
    }

    /// <summary>Grows the rented array to hold <paramref name="payloadEnd"/> bytes, at least doubling.</summary>
    [MemberNotNull(nameof(_data))]
    private void EnsureCapacity(int payloadEnd)
    {
        if (_data is null)
        {
            _data = ArrayPool<byte>.Shared.Rent(Math.Max(payloadEnd, MinRent));
            return;
        }
        if (_data.Length >= payloadEnd)
        {
            return;
        }
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(payloadEnd, _data.Length * 2), _maxDatagramLength));
        _data.AsSpan(0, _highestEnd).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_data);
        _data = larger;
    }
}
