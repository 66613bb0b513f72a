using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Usernet.Wire;

// RFC 1928 §3–6 and RFC 1929 §2:
//
//   greeting   +----+----------+----------+      reply  +----+--------+
//              |VER | NMETHODS | METHODS  |             |VER | METHOD |
//              | 05 |    1     | 1 to 255 |             | 05 |   1    |
//   user/pass  +----+------+----------+------+----------+   reply +----+--------+
//              |VER | ULEN |  UNAME   | PLEN |  PASSWD  |         |VER | STATUS |
//              | 01 |  1   | 1 to 255 |  1   | 1 to 255 |         | 01 |   1    |
//   request    +----+-----+-------+------+----------+----------+
//              |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |   CMD 01 CONNECT, 02 BIND, 03 UDP ASSOCIATE;
//              | 05 |  1  |  00   |  1   | Variable |    2     |   ATYP 01 IPv4, 03 name (length first), 04 IPv6
//   reply      |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |   REP 00 succeeded

/// <summary>
/// The SOCKS5 messages: what the proxy's upstream client sends and reads, and what the SOCKS
/// server on the host reads and answers. Parsers take bytes as they arrived, which may stop
/// anywhere: each says whether the message is complete, incomplete or malformed.
/// </summary>
internal static class Socks5Messages
{
    public const byte Version = 5;
    public const byte NoAuthentication = 0;
    public const byte UsernamePassword = 2;
    public const byte NoAcceptableMethod = 0xFF;

    /// <summary>RFC 1929 §2: the subnegotiation's own version.</summary>
    public const byte PasswordVersion = 1;

    public const byte CommandConnect = 1;
    public const byte CommandBind = 2;
    public const byte CommandUdpAssociate = 3;

    public const byte AddressIpv4 = 1;
    public const byte AddressName = 3;
    public const byte AddressIpv6 = 4;

    /// <summary>The longest request: a 255-byte name.</summary>
    public const int MaxRequestLength = 4 + 1 + 255 + 2;

    public static byte[] Greeting(bool withPassword) =>
        withPassword ? [Version, 2, NoAuthentication, UsernamePassword] : [Version, 1, NoAuthentication];

    /// <summary>RFC 1929's request; null when the user or password is longer than 255 bytes.</summary>
    public static byte[]? UsernamePasswordRequest(string user, string password)
    {
        byte[] u = Encoding.UTF8.GetBytes(user);
        byte[] p = Encoding.UTF8.GetBytes(password);
        if (u.Length is 0 or > 255 || p.Length > 255)
        {
            return null;
        }
        return [PasswordVersion, (byte)u.Length, .. u, (byte)p.Length, .. p];
    }

    /// <summary>A CONNECT request to a name (socks5h: the proxy resolves it) or an address; null for a name too long for SOCKS5.</summary>
    public static byte[]? Connect(string host, int port)
    {
        byte[] address;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            byte[] bytes = (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).GetAddressBytes();
            address = [bytes.Length == 4 ? AddressIpv4 : AddressIpv6, .. bytes];
        }
        else
        {
            byte[] name = Encoding.ASCII.GetBytes(host);
            if (name.Length is 0 or > 255)
            {
                return null;
            }
            address = [AddressName, (byte)name.Length, .. name];
        }
        var message = new byte[3 + address.Length + 2];
        message[0] = Version;
        message[1] = CommandConnect;
        address.CopyTo(message, 3);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(3 + address.Length), (ushort)port);
        return message;
    }

    /// <summary>
    /// The length of a CONNECT reply from its first five bytes (VER REP RSV ATYP and the first
    /// address byte); -1 when they are not a SOCKS5 reply.
    /// </summary>
    public static int ReplyLength(ReadOnlySpan<byte> start) =>
        start[0] != Version ? -1 : start[3] switch
        {
            AddressIpv4 => 4 + 4 + 2,
            AddressIpv6 => 4 + 16 + 2,
            AddressName => 4 + 1 + start[4] + 2,
            _ => -1,
        };

    /// <summary>What a reply code means (RFC 1928 §6).</summary>
    public static string DescribeReply(byte code) => code switch
    {
        0 => "succeeded",
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => $"reply code {code}",
    };

    /// <summary>
    /// Reads a greeting (RFC 1928 §3): <see cref="Socks5Parse.Complete"/> with its length in
    /// <paramref name="length"/> and whether it offers each method we know.
    /// </summary>
    public static Socks5Parse ParseGreeting(ReadOnlySpan<byte> data, out int length, out bool offersNone, out bool offersPassword)
    {
        length = 0;
        offersNone = offersPassword = false;
        if (data.Length >= 1 && data[0] != Version)
        {
            return Socks5Parse.Malformed;
        }
        if (data.Length < 2)
        {
            return Socks5Parse.Incomplete;
        }
        int count = data[1];
        if (count == 0)
        {
            return Socks5Parse.Malformed;
        }
        if (data.Length < 2 + count)
        {
            return Socks5Parse.Incomplete;
        }
        foreach (byte method in data.Slice(2, count))
        {
            offersNone |= method == NoAuthentication;
            offersPassword |= method == UsernamePassword;
        }
        length = 2 + count;
        return Socks5Parse.Complete;
    }

    /// <summary>Reads RFC 1929's request; the user and password are its bytes, as given.</summary>
    public static Socks5Parse ParseUsernamePassword(ReadOnlySpan<byte> data, out int length, out ReadOnlySpan<byte> user, out ReadOnlySpan<byte> password)
    {
        length = 0;
        user = password = default;
        if (data.Length >= 1 && data[0] != PasswordVersion)
        {
            return Socks5Parse.Malformed;
        }
        if (data.Length < 2)
        {
            return Socks5Parse.Incomplete;
        }
        int userLength = data[1];
        if (userLength == 0)
        {
            return Socks5Parse.Malformed;
        }
        if (data.Length < 2 + userLength + 1)
        {
            return Socks5Parse.Incomplete;
        }
        int passwordLength = data[2 + userLength];
        if (data.Length < 3 + userLength + passwordLength)
        {
            return Socks5Parse.Incomplete;
        }
        user = data.Slice(2, userLength);
        password = data.Slice(3 + userLength, passwordLength);
        length = 3 + userLength + passwordLength;
        return Socks5Parse.Complete;
    }

    /// <summary>
    /// Reads a request (RFC 1928 §4). Complete with its command and destination: an address,
    /// or a name (<paramref name="name"/>, ASCII as sent) with <paramref name="address"/> unset.
    /// An address type we do not know is <see cref="Socks5Parse.UnknownAddressType"/>: it has
    /// no length to read past, and gets reply 08.
    /// </summary>
    public static Socks5Parse ParseRequest(ReadOnlySpan<byte> data, out int length, out byte command,
        out IpAddress? address, out string? name, out ushort port)
    {
        length = 0;
        command = 0;
        address = null;
        name = null;
        port = 0;
        if (data.Length >= 1 && data[0] != Version || data.Length >= 3 && data[2] != 0)
        {
            return Socks5Parse.Malformed;
        }
        if (data.Length < 5)
        {
            return Socks5Parse.Incomplete;
        }
        command = data[1];
        int addressLength;
        switch (data[3])
        {
            case AddressIpv4:
                addressLength = 4;
                break;
            case AddressIpv6:
                addressLength = 16;
                break;
            case AddressName:
                addressLength = 1 + data[4];
                if (data[4] == 0)
                {
                    return Socks5Parse.Malformed;
                }
                break;
            default:
                return Socks5Parse.UnknownAddressType;
        }
        if (data.Length < 4 + addressLength + 2)
        {
            return Socks5Parse.Incomplete;
        }
        var bytes = data.Slice(4, addressLength);
        switch (data[3])
        {
            case AddressIpv4:
                address = new Ipv4Address(BinaryPrimitives.ReadUInt32BigEndian(bytes));
                break;
            case AddressIpv6:
                address = new Ipv6Address(BinaryPrimitives.ReadUInt128BigEndian(bytes));
                break;
            default:
                var text = bytes[1..];
                if (text.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E))
                {
                    // A name is printable ASCII (HostPort's rule); anything else is no name of ours.
                    return Socks5Parse.Malformed;
                }
                name = Encoding.ASCII.GetString(text);
                break;
        }
        port = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(4 + addressLength, 2));
        length = 4 + addressLength + 2;
        return Socks5Parse.Complete;
    }

    /// <summary>Writes a reply (RFC 1928 §6) with <paramref name="bound"/> as BND; returns its length (10 or 22 bytes).</summary>
    public static int WriteReply(Span<byte> destination, byte code, IpEndpoint bound)
    {
        destination[0] = Version;
        destination[1] = code;
        destination[2] = 0;
        int offset;
        if (bound.Address.IsV4)
        {
            destination[3] = AddressIpv4;
            BinaryPrimitives.WriteUInt32BigEndian(destination[4..], bound.Address.V4.Value);
            offset = 8;
        }
        else
        {
            destination[3] = AddressIpv6;
            BinaryPrimitives.WriteUInt128BigEndian(destination[4..], bound.Address.V6.Value);
            offset = 20;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], bound.Port);
        return offset + 2;
    }
}
