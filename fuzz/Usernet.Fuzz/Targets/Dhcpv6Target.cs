using Usernet.Fuzz.Fakes;
using Usernet.Link;
using Usernet.Services.Dhcp6;
using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// DHCPv6 messages (RFC 8415) into a server with few leases, a few per input. Every reply fits
/// its 1500 bytes, parses, carries the request's transaction ID, and the leases stay within
/// their cap.
/// </summary>
internal sealed class Dhcpv6Target : IFuzzTarget
{
    private static readonly MacAddress Stranger = new(0x02_00_00_00_0e_0e);
    private static readonly MacAddress DefaultClient = new(0x02_00_00_00_00_03);
    private static readonly FrameLink ClientLink = new MemoryLink("client");
    private static readonly FrameLink StrangerLink = new MemoryLink("stranger");

    private readonly byte[] _request = new byte[1500];
    private readonly byte[] _reply = new byte[1500];

    public void Run(ReadOnlySpan<byte> data)
    {
        var server = new Dhcpv6Server(FuzzNetwork.Dhcpv6Options, stack: null);
        var input = new FuzzInput(data);
        var now = FuzzNetwork.Start;
        for (int messages = 0; !input.IsEmpty && messages < 64; messages++)
        {
            now += TimeSpan.FromSeconds(messages * 7);
            var block = input.Block(_request.Length);
            var request = _request.AsSpan(0, block.Length);
            block.CopyTo(request);
            // From the MAC its DUID names, or, by the transaction ID's low bit, from a stranger
            // that copied the DUID: the seeds' layout stays as it was.
            bool fromStranger = request.Length > 3 && (request[3] & 1) != 0;
            var mac = fromStranger ? Stranger
                : Dhcpv6Message.TryParse(request, out var message) && message.TryGetClientMac(out var own) ? own : DefaultClient;
            int length = server.Handle(request, _reply, now, mac, fromStranger ? StrangerLink : ClientLink);
            PropertyException.Check(length <= _reply.Length, $"a DHCPv6 reply of {length} bytes");
            if (length > 0)
            {
                PropertyException.Check(Dhcpv6Message.TryParse(_reply.AsSpan(0, length), out _), "a DHCPv6 reply that does not parse");
                PropertyException.Check(_reply.AsSpan(1, 3).SequenceEqual(request[1..4]), "a DHCPv6 reply to another transaction");
            }
            PropertyException.Check(server.LeaseCount <= FuzzNetwork.MaxLeases, $"{server.LeaseCount} DHCPv6 leases, cap {FuzzNetwork.MaxLeases}");
        }
    }
}
