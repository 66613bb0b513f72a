using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using Usernet.Wire;

namespace Usernet.Platform;

/// <summary>
/// Reads the socket tables the kernel shows in /proc/net/tcp, tcp6, udp and udp6 (proc_net_tcp(5)
/// and net/ipv4/tcp_ipv4.c, udp.c): after a header line, one socket a line, whose fields are
/// <c>sl local_address rem_address st ... uid timeout inode ...</c>. Addresses are the kernel's
/// 32-bit words printed in hex in host byte order, ports big-endian hex: 127.0.0.1:53 on x86 is
/// <c>0100007F:0035</c>.
/// </summary>
internal static class ProcNetTable
{
    /// <summary>
    /// The TCP or UDP sockets of both families under <paramref name="netDirectory"/>
    /// (/proc/net for our own namespace, /proc/PID/net for another's). A table that cannot be
    /// read is taken as empty: the callers ask for a hint, not a guarantee.
    /// </summary>
    public static List<ProcNetSocket> Read(string netDirectory, ProtocolType protocol)
    {
        string name = protocol == ProtocolType.Tcp ? "tcp" : "udp";
        var sockets = new List<ProcNetSocket>();
        foreach (string file in new[] { name, name + "6" })
        {
            try
            {
                sockets.AddRange(Parse(File.ReadAllText(Path.Combine(netDirectory, file)), protocol));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return sockets;
    }

    /// <summary>The sockets of one table's text; lines that cannot be read are skipped.</summary>
    public static IEnumerable<ProcNetSocket> Parse(string text, ProtocolType protocol)
    {
        foreach (string line in text.Split('\n').Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 10
                && TryParseEndpoint(fields[1], out var local)
                && TryParseEndpoint(fields[2], out var remote)
                && byte.TryParse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte state)
                && ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                yield return new ProcNetSocket(protocol, local, remote, (KernelTcpState)state, inode);
            }
        }
    }

    /// <summary>ADDRESS:PORT in the tables' hex: 8 digits for IPv4, 32 for IPv6, then 4 for the port.</summary>
    public static bool TryParseEndpoint(string text, out IpEndpoint endpoint)
    {
        endpoint = default;
        int colon = text.IndexOf(':');
        if (colon is not (8 or 32) || text.Length != colon + 5
            || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort port))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[colon / 2];
        for (int word = 0; word < colon / 8; word++)
        {
            if (!uint.TryParse(text.AsSpan(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint value))
            {
                return false;
            }
            // Printed as a host-order number: write it back in host order to get the address's bytes.
            var destination = bytes.Slice(word * 4, 4);
            if (BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination, value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination, value);
            }
        }
        IpAddress address = colon == 8 ? Ipv4Address.Read(bytes) : Ipv6Address.Read(bytes);
        endpoint = new IpEndpoint(address, port);
        return true;
    }
}
