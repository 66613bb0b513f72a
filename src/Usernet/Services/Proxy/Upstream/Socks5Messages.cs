using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Usernet.Services.Proxy.Upstream;

// RFC 1928 §3–6 and RFC 1929 §2, the client's side:
//
//   greeting   +----+----------+----------+      reply  +----+--------+
//              |VER | NMETHODS | METHODS  |             |VER | METHOD |
//              | 05 |    1     | 1 to 255 |             | 05 |   1    |
//   user/pass  +----+------+----------+------+----------+   reply +----+--------+
//              |VER | ULEN |  UNAME   | PLEN |  PASSWD  |         |VER | STATUS |
//              | 01 |  1   | 1 to 255 |  1   | 1 to 255 |         | 01 |   1    |
//   request    +----+-----+-------+------+----------+----------+
//              |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |   CMD 01 CONNECT; ATYP 01 IPv4,
//              | 05 | 01  |  00   |  1   | Variable |    2     |   03 name (length first), 04 IPv6
//   reply      |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |   REP 00 succeeded

/// <summary>The SOCKS5 messages a CONNECT client sends and reads.</summary>
internal static class Socks5Messages
{
    public const byte Version = 5;
    public const byte NoAuthentication = 0;
    public const byte UsernamePassword = 2;
    public const byte NoAcceptableMethod = 0xFF;

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
        return [1, (byte)u.Length, .. u, (byte)p.Length, .. p];
    }

    /// <summary>A CONNECT request to a name (socks5h: the proxy resolves it) or an address.</summary>
    public static byte[] Connect(string host, int port)
    {
        byte[] address;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            byte[] bytes = (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).GetAddressBytes();
            address = [bytes.Length == 4 ? (byte)1 : (byte)4, .. bytes];
        }
        else
        {
            byte[] name = Encoding.ASCII.GetBytes(host);
            if (name.Length is 0 or > 255)
            {
                throw new ProxyException(502, $"the name {host} is too long for SOCKS5");
            }
            address = [3, (byte)name.Length, .. name];
        }
        var message = new byte[3 + address.Length + 2];
        message[0] = Version;
        message[1] = 1;
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
            1 => 4 + 4 + 2,
            4 => 4 + 16 + 2,
            3 => 4 + 1 + start[4] + 2,
            _ => -1,
        };

    /// <summary>What a reply code means (RFC 1928 §6).</summary>
    public static string DescribeReply(byte code) => code switch
    {
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
}
