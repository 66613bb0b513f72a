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
    private readonly byte[] _request = new byte[1500];
    private readonly byte[] _reply = new byte[1500];

    public void Run(ReadOnlySpan<byte> data)
    {
        var server = new Dhcpv6Server(FuzzNetwork.Dhcpv6Options, stack: null);
        var input = new FuzzInput(data);
        for (int messages = 0; !input.IsEmpty && messages < 64; messages++)
        {
            var block = input.Block(_request.Length);
            var request = _request.AsSpan(0, block.Length);
            block.CopyTo(request);
            int length = server.Handle(request, _reply);
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
