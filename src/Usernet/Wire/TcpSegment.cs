using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 9293 §3.1 TCP Header Format:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |       |       |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

[Flags]
internal enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>The options of a SYN that matter to the stack (RFC 9293 §3.2, RFC 7323 §2).</summary>
internal readonly record struct TcpSynOptions(ushort? Mss, byte? WindowScale, bool SackPermitted);

/// <summary>A view over a TCP segment, header and payload.</summary>
internal readonly ref struct TcpSegment
{
    private static class Field
    {
        public const int SourcePort = 0;
        public const int DestinationPort = 2;
        public const int Sequence = 4;
        public const int Acknowledgment = 8;
        public const int DataOffset = 12;
        public const int Flags = 13;
        public const int Window = 14;
        public const int Checksum = 16;
        public const int Urgent = 18;
        public const int Options = 20;
    }

    public const int MinHeaderLength = 20;

    /// <summary>Where the checksum field is, from the segment's start.</summary>
    public const int ChecksumOffset = Field.Checksum;

    private const byte OptionEnd = 0;
    private const byte OptionNop = 1;
    private const byte OptionMss = 2;
    private const byte OptionWindowScale = 3;
    private const byte OptionSackPermitted = 4;

    private readonly Span<byte> _buffer;

    public TcpSegment(Span<byte> buffer) => _buffer = buffer;

    /// <summary>
    /// Checked wrap for guest input: the data offset must cover the fixed header and fit the
    /// buffer. The checksum is checked by the caller, which knows the pseudo-header.
    /// </summary>
    public static bool TryParse(Span<byte> buffer, out TcpSegment segment)
    {
        segment = new TcpSegment(buffer);
        if (buffer.Length < MinHeaderLength)
        {
            return false;
        }
        int headerLength = (buffer[Field.DataOffset] >> 4) * 4;
        return headerLength >= MinHeaderLength && headerLength <= buffer.Length;
    }

    public Span<byte> Buffer => _buffer;

    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.SourcePort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.SourcePort..], value);
    }

    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DestinationPort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.DestinationPort..], value);
    }

    public uint SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.Sequence..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[Field.Sequence..], value);
    }

    public uint AcknowledgmentNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.Acknowledgment..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[Field.Acknowledgment..], value);
    }

    public int HeaderLength => (_buffer[Field.DataOffset] >> 4) * 4;

    public TcpFlags Flags
    {
        get => (TcpFlags)_buffer[Field.Flags];
        set => _buffer[Field.Flags] = (byte)value;
    }

    public ushort Window
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Window..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Window..], value);
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Checksum..], value);
    }

    public Span<byte> Options => _buffer[Field.Options..HeaderLength];

    public Span<byte> Payload => _buffer[HeaderLength..];

    public bool Has(TcpFlags flag) => (Flags & flag) != 0;

    public bool VerifyChecksum(ulong pseudoHeaderSum) =>
        InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, _buffer));

    /// <summary>
    /// Leaves the checksum partial (see <see cref="Link.PartialChecksum"/>): the field holds the
    /// pseudo-header's sum, and whoever takes the segment sums the rest of it.
    /// </summary>
    public void FillPartialChecksum(ulong pseudoHeaderSum) => Checksum = InternetChecksum.Fold(pseudoHeaderSum);

    public void FillChecksum(ulong pseudoHeaderSum)
    {
        Checksum = 0;
        Checksum = InternetChecksum.Finish(InternetChecksum.Add(pseudoHeaderSum, _buffer));
    }

    /// <summary>
    /// Reads MSS, window scale and SACK-permitted. False when an option runs past the header
    /// or has an impossible length (a malformed segment, to be dropped).
    /// </summary>
    public bool TryReadSynOptions(out TcpSynOptions options)
    {
        options = default;
        ReadOnlySpan<byte> data = Options;
        ushort? mss = null;
        byte? scale = null;
        bool sack = false;
        int i = 0;
        while (i < data.Length)
        {
            byte kind = data[i];
            if (kind == OptionEnd)
            {
                break;
            }
            if (kind == OptionNop)
            {
                i++;
                continue;
            }
            if (i + 1 >= data.Length)
            {
                return false;
            }
            int length = data[i + 1];
            if (length < 2 || i + length > data.Length)
            {
                return false;
            }
            switch (kind)
            {
                case OptionMss when length == 4:
                    mss = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
                    break;
                case OptionWindowScale when length == 3:
                    // RFC 7323 §2.3: a shift above 14 is treated as 14.
                    scale = Math.Min(data[i + 2], (byte)14);
                    break;
                case OptionSackPermitted when length == 2:
                    sack = true;
                    break;
            }
            i += length;
        }
        options = new TcpSynOptions(mss, scale, sack);
        return true;
    }

    /// <summary>Writes a header of <paramref name="headerLength"/> bytes (options zero-filled); fills no checksum.</summary>
    public static void WriteHeader(
        Span<byte> buffer, ushort sourcePort, ushort destinationPort, uint sequence, uint acknowledgment,
        TcpFlags flags, ushort window, int headerLength = MinHeaderLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.SourcePort..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.DestinationPort..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Sequence..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Acknowledgment..], acknowledgment);
        buffer[Field.DataOffset] = (byte)((headerLength / 4) << 4);
        buffer[Field.Flags] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Window..], window);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Checksum..], 0);
        if (headerLength > MinHeaderLength)
        {
            buffer[MinHeaderLength..headerLength].Fill(OptionNop);
        }
    }

    /// <summary>Writes MSS and (when given) window scale into the options of a SYN: 8 bytes.</summary>
    public static int WriteSynOptions(Span<byte> options, ushort mss, byte? windowScale)
    {
        options[0] = OptionMss;
        options[1] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(options[2..], mss);
        if (windowScale is { } shift)
        {
            options[4] = OptionNop;
            options[5] = OptionWindowScale;
            options[6] = 3;
            options[7] = shift;
        }
        else
        {
            options[4..8].Fill(OptionNop);
        }
        return 8;
    }
}
