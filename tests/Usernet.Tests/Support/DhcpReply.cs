using Usernet.Services.Dhcp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>What <see cref="DhcpServer.Handle"/> answered: the reply's bytes and where they go.</summary>
internal sealed record DhcpReply(byte[] Bytes, DhcpReplyTarget Target)
{
    public DhcpMessage Message
    {
        get
        {
            Assert.True(DhcpMessage.TryParse(Bytes, out var message));
            return message;
        }
    }

    public Dictionary<byte, byte[]> Options => TestDhcp.Options(Message);

    public DhcpMessageType Type => Message.MessageType;
}
