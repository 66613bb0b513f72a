using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>DHCP client messages as RFC 2131 §4.4 has clients fill them in, and a way to read a reply's options.</summary>
internal static class TestDhcp
{
    /// <summary>
    /// A BOOTREQUEST of <paramref name="type"/>, padded to the 300 bytes of BOOTP. Options 50
    /// and 54 are written only when given.
    /// </summary>
    public static byte[] Message(
        DhcpMessageType type, MacAddress client, uint transactionId = 0x1234_5678, Ipv4Address clientAddress = default,
        bool broadcast = false, Ipv4Address? requested = null, Ipv4Address? serverId = null, Ipv4Address relay = default)
    {
        byte[] message = new byte[300];
        var fixedPart = DhcpMessage.WriteRequest(message, transactionId, client, clientAddress, broadcast);
        fixedPart.RelayAddress = relay;
        var writer = new DhcpOptionWriter(message.AsSpan(DhcpMessage.FixedLength));
        writer.WriteByte(DhcpOption.MessageType, (byte)type);
        if (requested is { } address)
        {
            writer.WriteAddress(DhcpOption.RequestedAddress, address);
        }
        if (serverId is { } server)
        {
            writer.WriteAddress(DhcpOption.ServerIdentifier, server);
        }
        writer.WriteEnd();
        return message;
    }

    /// <summary>Every option of a message by code; a code given twice fails the test.</summary>
    public static Dictionary<byte, byte[]> Options(DhcpMessage message)
    {
        var options = new Dictionary<byte, byte[]>();
        var reader = message.ReadOptions();
        while (reader.MoveNext())
        {
            options.Add(reader.Code, reader.Data.ToArray());
        }
        Assert.False(reader.Truncated);
        return options;
    }
}
