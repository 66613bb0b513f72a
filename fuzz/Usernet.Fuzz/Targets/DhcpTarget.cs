using Usernet.Fuzz.Fakes;
using Usernet.Link;
using Usernet.Services.Dhcp;
using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// DHCPv4 messages (RFC 2131) into a server with a small pool, a few per input, from one of
/// three client MACs, with time passing between them so that leases offer, bind and expire.
/// Every reply is a BOOTREPLY of the request's transaction that fits its buffer, and the pool
/// holds no more leases than it has addresses.
/// </summary>
internal sealed class DhcpTarget : IFuzzTarget
{
    private static readonly MacAddress[] Macs = [new(0x02_00_00_00_00_03), new(0x02_00_00_00_00_04), MacAddress.Broadcast];

    // The first two clients share a link, as two containers bridged onto one VM's NIC do.
    private static readonly FrameLink SharedLink = new MemoryLink("guest A");
    private static readonly FrameLink[] Links = [SharedLink, SharedLink, new MemoryLink("guest B")];

    private readonly byte[] _request = new byte[1500];
    private readonly byte[] _reply = new byte[1024];

    public void Run(ReadOnlySpan<byte> data)
    {
        var options = FuzzNetwork.StackOptions;
        var pool = new DhcpLeasePool(options.FirstGuest, options.FirstGuest.Offset(FuzzNetwork.MaxLeases), [options.Gateway], FuzzNetwork.MaxLeases);
        var server = new DhcpServer(FuzzNetwork.DhcpOptions, pool, stack: null);
        var input = new FuzzInput(data);
        var now = FuzzNetwork.Start;
        for (int messages = 0; !input.IsEmpty && messages < 64; messages++)
        {
            byte choice = input.Byte();
            now += TimeSpan.FromMinutes(input.Byte());
            var block = input.Block(_request.Length);
            var request = _request.AsSpan(0, block.Length);
            block.CopyTo(request);
            uint transaction = request.Length >= 8 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(request[4..]) : 0;
            int mtu = (choice & 0x80) != 0 ? 576 + input.UInt16() : 1500;
            int client = (choice & 3) % Macs.Length;
            int length = server.Handle(request, Macs[client], Links[client], mtu, now, _reply, out _);
            PropertyException.Check(length <= _reply.Length, $"a DHCP reply of {length} bytes");
            if (length > 0)
            {
                PropertyException.Check(DhcpMessage.TryParse(_reply.AsSpan(0, length), out var reply), "a DHCP reply that does not parse");
                PropertyException.Check(reply.Op == DhcpOpcode.BootReply && reply.TransactionId == transaction, "a DHCP reply not to the request");
            }
            PropertyException.Check(pool.Count <= pool.Capacity, $"{pool.Count} DHCP leases in a pool of {pool.Capacity}");
        }
    }
}
