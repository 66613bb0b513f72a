using System.Buffers.Binary;
using System.Text;

namespace Usernet.Services.Proxy;

// RFC 8446 §4.1.2 and RFC 6066 §3, the parts read here:
//
//   TLSPlaintext  type(1)=22 handshake | legacy_version(2) | length(2) | fragment
//   Handshake     msg_type(1)=1 client_hello | length(3) | ClientHello
//   ClientHello   legacy_version(2) | random(32) | session_id<0..32> (1-byte length)
//                 | cipher_suites<2..2^16-2> | compression_methods<1..2^8-1> | extensions<8..2^16-1>
//   Extension     type(2) | data<0..2^16-1>;  server_name (0): ServerNameList<1..2^16-1>
//   ServerName    name_type(1)=0 host_name | HostName<1..2^16-1>

/// <summary>Reads the server name (SNI) from the start of a TLS connection, checking every length against the bytes there.</summary>
internal static class TlsClientHello
{
    public static PeekResult TryReadServerName(ReadOnlySpan<byte> data, out string? name)
    {
        name = null;
        if (data.Length < 1)
        {
            return PeekResult.NeedMore;
        }
        if (data[0] != 22)
        {
            return PeekResult.NotThis;
        }
        if (data.Length < 5)
        {
            return PeekResult.NeedMore;
        }
        if (data[1] != 3)
        {
            return PeekResult.NotThis;
        }
        int recordLength = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (recordLength < 4)
        {
            return PeekResult.NotThis;
        }
        if (data.Length < 5 + 4)
        {
            return PeekResult.NeedMore;
        }
        var record = data.Slice(5, Math.Min(recordLength, data.Length - 5));
        if (record[0] != 1)
        {
            return PeekResult.NotThis;
        }
        int helloLength = record[1] << 16 | record[2] << 8 | record[3];
        // The hello may continue in a later record; what this one holds is read as far as it goes.
        bool complete = record.Length >= 4 + helloLength;
        var hello = record[4..Math.Min(record.Length, 4 + helloLength)];
        var status = Parse(hello, out name);
        return status == PeekResult.NeedMore && complete && recordLength <= data.Length - 5 ? PeekResult.NotThis : status;
    }

    private static PeekResult Parse(ReadOnlySpan<byte> hello, out string? name)
    {
        name = null;
        int offset = 2 + 32;
        if (!Skip(hello, ref offset, 1) || !Skip(hello, ref offset, 2) || !Skip(hello, ref offset, 1))
        {
            return PeekResult.NeedMore;
        }
        if (offset == hello.Length)
        {
            return PeekResult.NoName;
        }
        if (offset + 2 > hello.Length)
        {
            return PeekResult.NeedMore;
        }
        int end = Math.Min(hello.Length, offset + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[offset..]));
        offset += 2;
        while (offset + 4 <= end)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(hello[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(hello[(offset + 2)..]);
            offset += 4;
            if (offset + length > end)
            {
                return PeekResult.NeedMore;
            }
            if (type == 0)
            {
                var list = hello.Slice(offset, length);
                if (list.Length < 5 || list[2] != 0)
                {
                    return PeekResult.NoName;
                }
                int nameLength = BinaryPrimitives.ReadUInt16BigEndian(list[3..]);
                if (5 + nameLength > list.Length || nameLength == 0)
                {
                    return PeekResult.NoName;
                }
                var bytes = list.Slice(5, nameLength);
                foreach (byte b in bytes)
                {
                    if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_'))
                    {
                        return PeekResult.NoName;
                    }
                }
                name = Encoding.ASCII.GetString(bytes);
                return PeekResult.Found;
            }
            offset += length;
        }
        return offset >= end ? PeekResult.NoName : PeekResult.NeedMore;
    }

    private static bool Skip(ReadOnlySpan<byte> data, ref int offset, int lengthBytes)
    {
        if (offset + lengthBytes > data.Length)
        {
            return false;
        }
        int length = lengthBytes == 1 ? data[offset] : BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
        offset += lengthBytes + length;
        return offset <= data.Length;
    }
}
