using Usernet.Fuzz.Fakes;
using Usernet.Link;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// Whole frames from two guests into an instance in memory (<see cref="FuzzNetwork"/>), mixed
/// with what the host's side does meanwhile: time passing, connects that complete or fail,
/// data and errors on host sockets, DNS lookups answered. The input is a list of steps, each
/// a byte saying what, then its operands:
/// <code>
///   op &amp; 7 = 0..2  a frame: bit 3 picks the guest, bits 4-5 the link's checksum word
///                    (none, valid, partial at two bytes that follow), bit 6 fixes the checksums,
///                    bit 7 makes a TCP acknowledgment number an offset past the stack's SYN
///   op &amp; 7 = 3     time passes: 16-bit milliseconds, shifted left by bits 3-6
///   op &amp; 7 = 4     a host datagram for a UDP or ping socket (its index, a source, the payload)
///   op &amp; 7 = 5     an ICMP error the host got for a datagram socket
///   op &amp; 7 = 6     an event of a host TCP socket
///   op &amp; 7 = 7     what the next connect or send does, or a DNS lookup's answer
/// </code>
/// After the input every table is within its limit, the stack still answers the probe, and no
/// exception was counted on the way (Usernet's per-frame guard counts what it catches).
/// </summary>
internal sealed class FrameTarget : IFuzzTarget
{
    private readonly byte[] _frame = new byte[FrameLink.MaxFrameLength];

    public void Run(ReadOnlySpan<byte> data)
    {
        var network = new FuzzNetwork();
        var input = new FuzzInput(data);
        for (int steps = 0; !input.IsEmpty && steps < 4096; steps++)
        {
            byte op = input.Byte();
            switch (op & 7)
            {
                case <= 2:
                    Frame(network, op, ref input);
                    break;
                case 3:
                    network.Advance(TimeSpan.FromMilliseconds((double)input.UInt16() * (1 << ((op >> 3) & 15))));
                    break;
                case 4:
                    HostDatagram(network, ref input);
                    break;
                case 5:
                    HostIcmpError(network, ref input);
                    break;
                case 6:
                    HostTcp(network, ref input);
                    break;
                default:
                    HostSetting(network, ref input);
                    break;
            }
        }
        network.CheckBounds();
        network.Probe();
    }

    private void Frame(FuzzNetwork network, byte op, ref FuzzInput input)
    {
        var link = network.Guests[(op >> 3) & 1];
        var checksum = ((op >> 4) & 3) switch
        {
            1 => new ReceivedChecksum(ReceivedChecksumState.Valid),
            2 => new ReceivedChecksum(ReceivedChecksumState.Partial, input.Byte(), input.Byte()),
            _ => default,
        };
        var block = input.Block(_frame.Length);
        var frame = _frame.AsSpan(0, block.Length);
        block.CopyTo(frame);
        ForgeNoProbe(frame);
        if ((op & 0x80) != 0)
        {
            network.Sequences.MakeAbsolute(frame);
        }
        if ((op & 0x40) != 0)
        {
            FrameChecksums.Fix(frame);
        }
        network.Receive(link, frame, checksum);
    }

    /// <summary>
    /// The guests may forge any source MAC but the probe's: the switch would then send the
    /// probe's answers to them. That a guest can take another's MAC on a shared LAN is a
    /// property of the switch, checked by its own tests.
    /// </summary>
    private static void ForgeNoProbe(Span<byte> frame)
    {
        if (frame.Length >= 12 && MacAddress.Read(frame[6..]) == ProbeFrames.Mac)
        {
            frame[11] ^= 1;
        }
    }

    private static void HostDatagram(FuzzNetwork network, ref FuzzInput input)
    {
        var sockets = network.Datagrams.Sockets;
        byte index = input.Byte();
        bool fromElsewhere = input.Bool();
        var payload = input.Block(2048);
        if (sockets.Count == 0 || sockets[index % sockets.Count] is not { Closed: false, LastDestination: { } destination } socket)
        {
            return;
        }
        var source = fromElsewhere ? Elsewhere(socket.Family, payload.Length) : destination;
        var buffer = socket.Events.ReceiveBuffer;
        int length = Math.Min(payload.Length, buffer.Length);
        payload[..length].CopyTo(buffer);
        network.OnHost(now => socket.Events.OnHostDatagram(source, length, now));
    }

    private static void HostIcmpError(FuzzNetwork network, ref FuzzInput input)
    {
        var sockets = network.Datagrams.Sockets;
        byte index = input.Byte();
        byte type = input.Byte();
        byte code = input.Byte();
        uint info = input.UInt16();
        ushort sequence = input.UInt16();
        if (sockets.Count == 0 || sockets[index % sockets.Count] is not { Closed: false, LastDestination: { } destination } socket)
        {
            return;
        }
        // What a host socket's error queue can hold: the ICMP error types (RFC 792, RFC 4443 §3).
        byte[] types = socket.Family.IsV4 ? [3, 11, 12] : [1, 2, 3, 4];
        var error = new HostIcmpError(types[type % types.Length], (byte)(code % 16), Elsewhere(socket.Family, type).Address, destination, info, sequence);
        network.OnHost(now => socket.Events.OnHostIcmpError(error, now));
    }

    /// <summary>
    /// Plays one event of a host TCP socket, in an order the kernel could report them: the
    /// connect's outcome first, then data, room to write, the peer's close or an error.
    /// </summary>
    private static void HostTcp(FuzzNetwork network, ref FuzzInput input)
    {
        var sockets = network.Connector.Sockets;
        byte index = input.Byte();
        byte kind = input.Byte();
        var data = (kind & 7) == 2 ? input.Block(4096) : default;
        if (sockets.Count == 0 || sockets[index % sockets.Count] is not { Closed: false, Failed: false } socket)
        {
            return;
        }
        var events = socket.Events;
        var error = (TcpHostError)(1 + (kind >> 3) % 6);
        if (!socket.Connected)
        {
            if ((kind & 1) == 0)
            {
                socket.Connected = true;
                network.OnHost(events.OnHostConnected);
            }
            else
            {
                socket.Failed = true;
                network.OnHost(now => events.OnHostConnectFailed(error, now));
            }
            return;
        }
        switch (kind & 7)
        {
            case 2:
                socket.PeerSends(data);
                network.OnHost(events.OnHostReadable);
                break;
            case 3:
                socket.PeerCloses();
                network.OnHost(events.OnHostReadable);
                break;
            case 4 or 5:
                socket.PeerReads();
                network.OnHost(events.OnHostWritable);
                break;
            case 6:
                socket.Failed = true;
                socket.Error = error;
                network.OnHost(now => events.OnHostFailed(error, now));
                break;
            default:
                socket.Broken = true;
                socket.Error = error;
                network.OnHost(events.OnHostReadable);
                break;
        }
    }

    private static void HostSetting(FuzzNetwork network, ref FuzzInput input)
    {
        byte kind = input.Byte();
        switch (kind & 3)
        {
            case 0:
                network.Connector.FailNext = (TcpHostError)((kind >> 2) % 7);
                break;
            case 1:
                var sockets = network.Datagrams.Sockets;
                if (sockets.Count > 0)
                {
                    sockets[(kind >> 2) % sockets.Count].NextResult = (HostSendResult)(input.Byte() % 5);
                }
                break;
            default:
                AnswerDns(network, kind, ref input);
                break;
        }
    }

    /// <summary>Answers the oldest DNS lookup: with upstream bytes, or as getaddrinfo would.</summary>
    private static void AnswerDns(FuzzNetwork network, byte kind, ref FuzzInput input)
    {
        var bytes = input.Block(1024).ToArray();
        var pending = network.DnsLookups.Pending;
        if (pending.Count == 0)
        {
            return;
        }
        var lookup = pending[0];
        pending.RemoveAt(0);
        if (lookup.Kind == Services.Dns.DnsLookupKind.Upstream)
        {
            network.OnHost(now => network.Dns.CompleteForward(lookup, (kind & 4) != 0 ? null : UpstreamAnswer.For(lookup, bytes), now));
            return;
        }
        network.OnHost(now => network.Dns.CompleteHost(lookup, UpstreamAnswer.HostResult(kind >> 2, bytes), now));
    }

    /// <summary>A host out in the world, of the socket's family (198.18.0.0/15 and 2001:2::/48, the test ranges).</summary>
    private static IpEndpoint Elsewhere(IpAddress family, int variant) => family.IsV4
        ? new IpEndpoint(Ipv4Address.Parse("198.18.0.1").Offset(variant & 0xFF), (ushort)(1024 + variant))
        : new IpEndpoint(new Ipv6Address(Ipv6Address.Parse("2001:2::1").Value + (uint)(variant & 0xFF)), (ushort)(1024 + variant));
}
