using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 2131 §2 DHCP message format:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +---------------+---------------+---------------+---------------+
// |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
// +---------------+---------------+---------------+---------------+
// |                            xid (4)                            |
// +-------------------------------+-------------------------------+
// |           secs (2)            |           flags (2)           |
// +-------------------------------+-------------------------------+
// |                          ciaddr  (4)                          |
// |                          yiaddr  (4)                          |
// |                          siaddr  (4)                          |
// |                          giaddr  (4)                          |
// +---------------------------------------------------------------+
// |                          chaddr  (16)                         |
// |                          sname   (64)                         |
// |                          file    (128)                        |
// +---------------------------------------------------------------+
// |          magic cookie 99.130.83.99, then options (variable)   |
// +---------------------------------------------------------------+

internal static class DhcpOpcode
{
    public const byte BootRequest = 1;
    public const byte BootReply = 2;
}

internal enum DhcpMessageType : byte
{
    None = 0,
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

/// <summary>Option codes of RFC 2132 and later, as far as the server uses them.</summary>
internal static class DhcpOption
{
    public const byte Pad = 0;
    public const byte SubnetMask = 1;
    public const byte Router = 3;
    public const byte DomainNameServer = 6;
    public const byte HostName = 12;
    public const byte DomainName = 15;
    public const byte InterfaceMtu = 26;
    public const byte BroadcastAddress = 28;
    public const byte RequestedAddress = 50;
    public const byte LeaseTime = 51;
    public const byte MessageType = 53;
    public const byte ServerIdentifier = 54;
    public const byte ParameterRequestList = 55;
    public const byte Message = 56;
    public const byte MaxMessageSize = 57;
    public const byte RenewalTime = 58;
    public const byte RebindingTime = 59;
    public const byte ClientIdentifier = 61;
    public const byte DomainSearch = 119;
    public const byte End = 255;
}

/// <summary>A view over a DHCP (BOOTP) message.</summary>
internal readonly ref struct DhcpMessage
{
    private static class Field
    {
        public const int Op = 0;
        public const int HardwareType = 1;
        public const int HardwareLength = 2;
        public const int Hops = 3;
        public const int TransactionId = 4;
        public const int Seconds = 8;
        public const int Flags = 10;
        public const int ClientAddress = 12;
        public const int YourAddress = 16;
        public const int ServerAddress = 20;
        public const int RelayAddress = 24;
        public const int ClientHardware = 28;
        public const int ServerName = 44;
        public const int BootFile = 108;
        public const int MagicCookie = 236;
        public const int Options = 240;
    }

    public const int FixedLength = Field.Options;
    public const uint MagicCookie = 0x63825363;
    public const ushort FlagBroadcast = 0x8000;
    public const int ServerPort = 67;
    public const int ClientPort = 68;

    private readonly Span<byte> _buffer;

    public DhcpMessage(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap for guest input: the fixed part, the cookie, and Ethernet hardware.</summary>
    public static bool TryParse(Span<byte> buffer, out DhcpMessage message)
    {
        message = new DhcpMessage(buffer);
        return buffer.Length >= FixedLength
            && BinaryPrimitives.ReadUInt32BigEndian(buffer[Field.MagicCookie..]) == MagicCookie
            && buffer[Field.HardwareType] == 1
            && buffer[Field.HardwareLength] == MacAddress.Length;
    }

    public Span<byte> Buffer => _buffer;

    public byte Op
    {
        get => _buffer[Field.Op];
        set => _buffer[Field.Op] = value;
    }

    public uint TransactionId
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.TransactionId..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[Field.TransactionId..], value);
    }

    public ushort Seconds
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Seconds..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Seconds..], value);
    }

    public ushort Flags
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Flags..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Flags..], value);
    }

    public bool Broadcast => (Flags & FlagBroadcast) != 0;

    public Ipv4Address ClientAddress
    {
        get => Ipv4Address.Read(_buffer[Field.ClientAddress..]);
        set => value.Write(_buffer[Field.ClientAddress..]);
    }

    public Ipv4Address YourAddress
    {
        get => Ipv4Address.Read(_buffer[Field.YourAddress..]);
        set => value.Write(_buffer[Field.YourAddress..]);
    }

    public Ipv4Address ServerAddress
    {
        get => Ipv4Address.Read(_buffer[Field.ServerAddress..]);
        set => value.Write(_buffer[Field.ServerAddress..]);
    }

    public Ipv4Address RelayAddress
    {
        get => Ipv4Address.Read(_buffer[Field.RelayAddress..]);
        set => value.Write(_buffer[Field.RelayAddress..]);
    }

    public MacAddress ClientHardware
    {
        get => MacAddress.Read(_buffer[Field.ClientHardware..]);
        set => value.Write(_buffer[Field.ClientHardware..]);
    }

    public Span<byte> Options => _buffer[Field.Options..];

    /// <summary>Iterates the options; stops at End, at the end of the buffer, or at a truncated option.</summary>
    public DhcpOptionReader ReadOptions() => new(_buffer[Field.Options..]);

    /// <summary>The data of the first option with <paramref name="code"/>, or empty.</summary>
    public bool TryGetOption(byte code, out Span<byte> data)
    {
        var reader = ReadOptions();
        while (reader.MoveNext())
        {
            if (reader.Code == code)
            {
                data = reader.Data;
                return true;
            }
        }
        data = default;
        return false;
    }

    public DhcpMessageType MessageType =>
        TryGetOption(DhcpOption.MessageType, out var data) && data.Length == 1 ? (DhcpMessageType)data[0] : DhcpMessageType.None;

    /// <summary>
    /// Writes the fixed part of a reply to <paramref name="request"/>: zeroes the buffer, copies
    /// the transaction, flags, relay and client hardware, and writes the cookie. Options follow
    /// at <see cref="FixedLength"/>.
    /// </summary>
    public static DhcpMessage WriteReply(Span<byte> buffer, DhcpMessage request, Ipv4Address yourAddress, Ipv4Address serverAddress)
    {
        // Read the request first: the reply may be written over the request's own buffer.
        uint transactionId = request.TransactionId;
        ushort flags = request.Flags;
        Ipv4Address clientAddress = request.ClientAddress;
        Ipv4Address relayAddress = request.RelayAddress;
        MacAddress clientHardware = request.ClientHardware;
        buffer[..FixedLength].Clear();
        var reply = new DhcpMessage(buffer)
        {
            Op = DhcpOpcode.BootReply,
            TransactionId = transactionId,
            Flags = flags,
            ClientAddress = clientAddress,
            YourAddress = yourAddress,
            ServerAddress = serverAddress,
            RelayAddress = relayAddress,
            ClientHardware = clientHardware,
        };
        buffer[Field.HardwareType] = 1;
        buffer[Field.HardwareLength] = MacAddress.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.MagicCookie..], MagicCookie);
        return reply;
    }

    /// <summary>Writes the fixed part of a client message (used by the guest-side client).</summary>
    public static DhcpMessage WriteRequest(Span<byte> buffer, uint transactionId, MacAddress client, Ipv4Address clientAddress, bool broadcast)
    {
        buffer[..FixedLength].Clear();
        var message = new DhcpMessage(buffer)
        {
            Op = DhcpOpcode.BootRequest,
            TransactionId = transactionId,
            Flags = broadcast ? FlagBroadcast : (ushort)0,
            ClientAddress = clientAddress,
            ClientHardware = client,
        };
        buffer[Field.HardwareType] = 1;
        buffer[Field.HardwareLength] = MacAddress.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.MagicCookie..], MagicCookie);
        return message;
    }
}

/// <summary>Walks DHCP options in place. Pad is skipped; a truncated option ends the walk.</summary>
internal ref struct DhcpOptionReader
{
    private readonly Span<byte> _options;
    private int _next;

    public DhcpOptionReader(Span<byte> options)
    {
        _options = options;
        _next = 0;
        Code = 0;
        Data = default;
    }

    public byte Code { get; private set; }

    public Span<byte> Data { get; private set; }

    /// <summary>True when the walk stopped at an option cut short by the end of the buffer.</summary>
    public bool Truncated { get; private set; }

    /// <summary>False at End, at the end of the buffer, or at a truncated option (see <see cref="Truncated"/>).</summary>
    public bool MoveNext()
    {
        while (_next < _options.Length && _options[_next] == DhcpOption.Pad)
        {
            _next++;
        }
        if (_next >= _options.Length || _options[_next] == DhcpOption.End)
        {
            return false;
        }
        if (_next + 1 >= _options.Length)
        {
            Truncated = true;
            return false;
        }
        int length = _options[_next + 1];
        int start = _next + 2;
        if (start + length > _options.Length)
        {
            Truncated = true;
            return false;
        }
        Code = _options[_next];
        Data = _options.Slice(start, length);
        _next = start + length;
        return true;
    }
}

/// <summary>
/// Appends DHCP options to a buffer, always keeping room for End. Bounded: an option that does
/// not fit (or whose data is over 255 bytes) is refused, not cut, and sets
/// <see cref="Truncated"/>; every write after it is refused too, so that what was written is
/// the options up to that point, in order, and the caller counts a truncated reply once.
/// </summary>
internal ref struct DhcpOptionWriter
{
    private readonly Span<byte> _buffer;

    public DhcpOptionWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        Length = 0;
        Truncated = false;
    }

    public int Length { get; private set; }

    /// <summary>Whether an option was refused: the options written stop before it.</summary>
    public bool Truncated { get; private set; }

    public bool Write(byte code, scoped ReadOnlySpan<byte> data)
    {
        if (Truncated || data.Length > 255 || Length + 2 + data.Length + 1 > _buffer.Length)
        {
            Truncated = true;
            return false;
        }
        _buffer[Length] = code;
        _buffer[Length + 1] = (byte)data.Length;
        data.CopyTo(_buffer[(Length + 2)..]);
        Length += 2 + data.Length;
        return true;
    }

    public bool WriteByte(byte code, byte value) => Write(code, [value]);

    public bool WriteUInt16(byte code, ushort value)
    {
        Span<byte> data = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(data, value);
        return Write(code, data);
    }

    public bool WriteUInt32(byte code, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, value);
        return Write(code, data);
    }

    public bool WriteAddress(byte code, Ipv4Address address) => WriteUInt32(code, address.Value);

    /// <summary>Writes up to 63 addresses, the most that fit an option's 255 bytes.</summary>
    public bool WriteAddresses(byte code, scoped ReadOnlySpan<Ipv4Address> addresses)
    {
        Span<byte> data = stackalloc byte[Math.Min(addresses.Length, 63) * 4];
        for (int i = 0; i < data.Length / 4; i++)
        {
            addresses[i].Write(data[(i * 4)..]);
        }
        return Write(code, data);
    }

    /// <summary>Writes End (in the room every write kept for it); the caller pads to the minimum BOOTP size if it wants.</summary>
    public void WriteEnd()
    {
        if (Length >= _buffer.Length)
        {
            Truncated = true;
            return;
        }
        _buffer[Length] = DhcpOption.End;
        Length++;
    }
}
