using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 8415 §8 client/server message format:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |    msg-type   |               transaction-id                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// .                            options                            .
//
// and §21.1 each option: option-code (16), option-len (16), option-data.

internal enum Dhcpv6MessageType : byte
{
    Solicit = 1,
    Advertise = 2,
    Request = 3,
    Confirm = 4,
    Renew = 5,
    Rebind = 6,
    Reply = 7,
    Release = 8,
    Decline = 9,
    InformationRequest = 11,
}

internal static class Dhcpv6Option
{
    public const ushort ClientId = 1;
    public const ushort ServerId = 2;
    public const ushort IaNa = 3;
    public const ushort IaAddress = 5;
    public const ushort OptionRequest = 6;
    public const ushort ElapsedTime = 8;
    public const ushort StatusCode = 13;
    public const ushort RapidCommit = 14;
    public const ushort DnsServers = 23;
    public const ushort DomainList = 24;
}

internal static class Dhcpv6Status
{
    public const ushort Success = 0;
    public const ushort NoAddressesAvailable = 2;
    public const ushort NotOnLink = 4;
}

/// <summary>A view over a DHCPv6 message.</summary>
internal readonly ref struct Dhcpv6Message
{
    public const int HeaderLength = 4;
    public const int ClientPort = 546;
    public const int ServerPort = 547;

    /// <summary>All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1).</summary>
    public static readonly Ipv6Address AllServers = Ipv6Address.Parse("ff02::1:2");

    private readonly Span<byte> _buffer;

    public Dhcpv6Message(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap: the header, and options that all lie within the message.</summary>
    public static bool TryParse(Span<byte> buffer, out Dhcpv6Message message)
    {
        message = new Dhcpv6Message(buffer);
        if (buffer.Length < HeaderLength)
        {
            return false;
        }
        return Dhcpv6OptionReader.AllWellFormed(buffer[HeaderLength..]);
    }

    public Span<byte> Buffer => _buffer;

    public Dhcpv6MessageType Type
    {
        get => (Dhcpv6MessageType)_buffer[0];
        set => _buffer[0] = (byte)value;
    }

    public uint TransactionId
    {
        get => (uint)((_buffer[1] << 16) | (_buffer[2] << 8) | _buffer[3]);
        set
        {
            _buffer[1] = (byte)(value >> 16);
            _buffer[2] = (byte)(value >> 8);
            _buffer[3] = (byte)value;
        }
    }

    public Span<byte> Options => _buffer[HeaderLength..];

    /// <summary>The data of the first top-level option with <paramref name="code"/>.</summary>
    public bool TryGetOption(ushort code, out Span<byte> data) => Dhcpv6OptionReader.TryFind(Options, code, out data);

    /// <summary>
    /// The MAC a client's DUID-LLT or DUID-LL ends with (RFC 8415 §11.2, §11.4: type 1 or 3,
    /// hardware type, [time,] link-layer address), as a kernel takes it from its NIC; false for
    /// other DUIDs, or none.
    /// </summary>
    public bool TryGetClientMac(out MacAddress mac)
    {
        if (TryGetOption(Dhcpv6Option.ClientId, out var duid) && duid.Length >= 10
            && BinaryPrimitives.ReadUInt16BigEndian(duid) is 1 or 3)
        {
            mac = MacAddress.Read(duid[^6..]);
            return true;
        }
        mac = default;
        return false;
    }
}

/// <summary>Walks DHCPv6 options (top level, or inside IA_NA and IAADDR).</summary>
internal ref struct Dhcpv6OptionReader
{
    private Span<byte> _rest;

    public Dhcpv6OptionReader(Span<byte> options)
    {
        _rest = options;
        Code = 0;
        Data = default;
    }

    public ushort Code { get; private set; }

    public Span<byte> Data { get; private set; }

    public bool MoveNext()
    {
        if (_rest.Length < 4)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(_rest[2..]);
        if (4 + length > _rest.Length)
        {
            return false;
        }
        Code = BinaryPrimitives.ReadUInt16BigEndian(_rest);
        Data = _rest.Slice(4, length);
        _rest = _rest[(4 + length)..];
        return true;
    }

    public static bool TryFind(Span<byte> options, ushort code, out Span<byte> data)
    {
        var reader = new Dhcpv6OptionReader(options);
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

    /// <summary>True when the options exactly fill the span, none running past its end.</summary>
    public static bool AllWellFormed(Span<byte> options)
    {
        while (options.Length > 0)
        {
            if (options.Length < 4)
            {
                return false;
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            if (4 + length > options.Length)
            {
                return false;
            }
            options = options[(4 + length)..];
        }
        return true;
    }
}

/// <summary>
/// Appends DHCPv6 options; nested options are written by opening and closing a container.
/// Bounded: a write that does not fit writes nothing and sets <see cref="Overflowed"/>, and
/// every write after it is skipped, so the caller checks once at the end and sends nothing.
/// </summary>
internal ref struct Dhcpv6OptionWriter
{
    private readonly Span<byte> _buffer;

    public Dhcpv6OptionWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        Length = 0;
        Overflowed = false;
    }

    public int Length { get; private set; }

    /// <summary>Whether something did not fit: the options written are incomplete.</summary>
    public bool Overflowed { get; private set; }

    public void Write(ushort code, scoped ReadOnlySpan<byte> data)
    {
        if (!Fits(4 + data.Length))
        {
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Length..], code);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(Length + 2)..], (ushort)data.Length);
        data.CopyTo(_buffer[(Length + 4)..]);
        Length += 4 + data.Length;
    }

    /// <summary>Starts an option whose data is written next; returns where it began, for <see cref="Close"/>.</summary>
    public int Open(ushort code)
    {
        int start = Length;
        if (Fits(4))
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[Length..], code);
            Length += 4;
        }
        return start;
    }

    public void WriteRaw(scoped ReadOnlySpan<byte> data)
    {
        if (Fits(data.Length))
        {
            data.CopyTo(_buffer[Length..]);
            Length += data.Length;
        }
    }

    public void WriteUInt32(uint value)
    {
        if (Fits(4))
        {
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[Length..], value);
            Length += 4;
        }
    }

    public void Close(int start)
    {
        if (!Overflowed)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[(start + 2)..], (ushort)(Length - start - 4));
        }
    }

    public void WriteStatus(ushort status, string message)
    {
        int start = Open(Dhcpv6Option.StatusCode);
        if (Fits(2))
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[Length..], status);
            Length += 2;
        }
        WriteRaw(System.Text.Encoding.ASCII.GetBytes(message));
        Close(start);
    }

    private bool Fits(int length)
    {
        if (!Overflowed && Length + length > _buffer.Length)
        {
            Overflowed = true;
        }
        return !Overflowed;
    }
}
