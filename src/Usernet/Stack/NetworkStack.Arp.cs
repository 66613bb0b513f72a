using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>
    /// Answers requests for the gateway and host addresses (RFC 826), and learns the sender
    /// of every well-formed ARP packet from a guest in the subnet.
    /// </summary>
    private void ReceiveArp(EthernetFrame ethernet, FrameLink from)
    {
        if (!ArpPacket.TryParse(ethernet.Payload, out var arp))
        {
            Counters.Drop(DropReason.ArpMalformed);
            return;
        }
        Ipv4Address sender = arp.SenderProtocol;
        MacAddress senderMac = arp.SenderHardware;
        if (Options.InSubnet(sender) && senderMac.IsUnicast && !IsOwnAddress(sender))
        {
            Neighbours.Learn(sender, senderMac, from);
        }
        if (arp.Operation != ArpOperation.Request || !IsOwnAddress(arp.TargetProtocol))
        {
            if (arp.Operation != ArpOperation.Reply)
            {
                Counters.Drop(DropReason.NotForUs);
            }
            return;
        }
        if (!senderMac.IsUnicast)
        {
            Counters.Drop(DropReason.ArpMalformed);
            return;
        }
        Span<byte> frame = _tx;
        EthernetFrame.WriteHeader(frame, senderMac, Mac, EtherType.Arp);
        ArpPacket.Write(frame[EthernetFrame.HeaderLength..], ArpOperation.Reply, Mac, arp.TargetProtocol, senderMac, sender);
        Counters.ArpRepliesSent++;
        Transmit(EthernetFrame.HeaderLength + ArpPacket.Length);
    }

    /// <summary>Addresses the stack itself answers for.</summary>
    public bool IsOwnAddress(Ipv4Address address) => address == Options.Gateway || address == Options.Host;

    /// <summary>Asks the guests who has <paramref name="target"/>; the answer fills the neighbour table.</summary>
    private void SendArpRequest(Ipv4Address target)
    {
        Span<byte> frame = _arpTx;
        EthernetFrame.WriteHeader(frame, MacAddress.Broadcast, Mac, EtherType.Arp);
        ArpPacket.Write(frame[EthernetFrame.HeaderLength..], ArpOperation.Request, Mac, Options.Gateway, MacAddress.Zero, target);
        Counters.FramesOut++;
        _transmitter.Transmit(frame);
    }
}
