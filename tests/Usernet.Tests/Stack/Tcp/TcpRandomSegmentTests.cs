using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// Seeded random runs against the engine. The fake host socket fails the test on any misuse
/// (peeking or discarding past its data, writing after shutdown, closing twice); beyond that,
/// each byte carries its own stream offset, so a byte written or sent at the wrong place shows.
/// </summary>
public sealed class TcpRandomSegmentTests
{
    private const int Steps = 4000;

    /// <summary>The guest's byte at <paramref name="offset"/> from its first data byte.</summary>
    private static byte GuestByte(long offset) => (byte)(offset * 13 + 7);

    /// <summary>One guest connection and what its guest has seen of the stack.</summary>
    private sealed class Flow(TcpGuest guest)
    {
        public TcpGuest Guest { get; } = guest;

        /// <summary>How much the host peer has sent (the stream offset of its next byte).</summary>
        public int HostSent { get; set; }

        /// <summary>The end of the stack's data the guest has seen, as an offset from its ISN.</summary>
        public int StackSent { get; set; }

        /// <summary>How far the stack has acknowledged the guest's data, as an offset from the guest's ISN.</summary>
        public int StackAcked { get; set; } = 1;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomTrafficKeepsBothByteStreamsInOrder(int seed)
    {
        var random = new Random(seed);
        var harness = new TcpHarness(new TcpOptions { MinReceiveWindow = 4096, MaxReceiveWindow = 32768, MaxRetransmits = 6 });
        var flows = new List<Flow>();
        for (int i = 0; i < 3; i++)
        {
            flows.Add(Open(harness, random, (ushort)(41000 + i)));
        }

        for (int step = 0; step < Steps; step++)
        {
            int index = random.Next(flows.Count);
            var flow = flows[index];
            if (!IsOpen(harness, flow.Guest))
            {
                AssertWrittenInOrder(flow.Guest.Host);
                flow = flows[index] = Open(harness, random, flow.Guest.Local.Port);
            }
            Act(harness, random, flow);
            foreach (byte[] frame in harness.Sent.Take())
            {
                var segment = SentSegment.Parse(frame);
                Observe(Assert.Single(flows, f => f.Guest.Local == segment.Destination), segment);
            }
            Assert.InRange(harness.Tcp.Backlog.InUse, 0, 3 * 32768);
        }

        foreach (var flow in flows)
        {
            AssertWrittenInOrder(flow.Guest.Host);
        }
        harness.Tcp.AbortGuest(TestFrames.Guest);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(0, harness.Tcp.Backlog.InUse);
        Assert.All(flows, flow => Assert.True(flow.Guest.Host.IsClosed));
    }

    private static Flow Open(TcpHarness harness, Random random, ushort port)
    {
        var guest = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, port), TcpHarness.Remote, (uint)random.NextInt64(1L << 32));
        byte? shift = random.Next(2) == 0 ? null : (byte)random.Next(0, 15);
        guest.Connect(TcpSynOptionBytes.Build(mss: (ushort)random.Next(536, 9000), windowScale: shift));
        return new Flow(guest);
    }

    private static bool IsOpen(TcpHarness harness, TcpGuest guest) =>
        harness.Tcp.Connections.Any(c => c.Key == guest.Key && c.State is not (TcpState.TimeWait or TcpState.Closed));

    private static void Act(TcpHarness harness, Random random, Flow flow)
    {
        var guest = flow.Guest;
        var host = guest.Host;
        int action = random.Next(100);
        if (action < 45)
        {
            GuestSends(harness, random, flow);
        }
        else if (action < 60 && !host.IsClosed && !host.PeerFinished)
        {
            int length = random.Next(1, 5000);
            host.PeerSends(TcpHarness.Bytes(length, start: flow.HostSent));
            flow.HostSent += length;
            harness.OnHost(host.Events.OnHostReadable);
        }
        else if (action < 62 && !host.IsClosed && !host.PeerFinished)
        {
            host.PeerCloses();
            harness.OnHost(host.Events.OnHostReadable);
        }
        else if (action < 75 && !host.IsClosed)
        {
            host.PeerReads(random.Next(0, 20000));
            harness.OnHost(host.Events.OnHostWritable);
        }
        else if (action < 79)
        {
            host.SendBufferSize = random.Next(0, 20000);
        }
        else if (action < 99)
        {
            harness.Advance(TimeSpan.FromMilliseconds(random.Next(0, 700)));
        }
        else if (random.Next(10) == 0 && !host.IsClosed)
        {
            // One step in a thousand: the host peer resets.
            harness.OnHost(now => host.Events.OnHostFailed(TcpHostError.Reset, now));
        }
    }

    private static readonly TcpFlags[] GuestFlags =
    [
        TcpFlags.Ack, TcpFlags.Ack, TcpFlags.Ack | TcpFlags.Psh, TcpFlags.Ack | TcpFlags.Psh, TcpFlags.Ack | TcpFlags.Psh,
        TcpFlags.Ack | TcpFlags.Fin, TcpFlags.Fin, TcpFlags.Psh, TcpFlags.None, TcpFlags.Ack | TcpFlags.Urg,
    ];

    /// <summary>A segment near what the guest has seen, now and then anywhere; no SYN, so the connection stays this one.</summary>
    private static void GuestSends(TcpHarness harness, Random random, Flow flow)
    {
        var guest = flow.Guest;
        int offset = random.Next(10) switch
        {
            0 => random.Next(),
            < 5 => flow.StackAcked + random.Next(-3000, 3000),
            _ => flow.StackAcked,
        };
        int length = random.Next(3) == 0 ? 0 : random.Next(1, 2000);
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++)
        {
            payload[i] = GuestByte((long)offset - 1 + i);
        }
        var flags = random.Next(50) switch
        {
            // Resets are rare: one at RCV.NXT ends the connection.
            0 => TcpFlags.Rst,
            < 5 => (TcpFlags)random.Next(256) & ~(TcpFlags.Syn | TcpFlags.Rst),
            _ => GuestFlags[random.Next(GuestFlags.Length)],
        };
        uint ack = random.Next(10) switch
        {
            0 => (uint)random.NextInt64(1L << 32),
            < 5 => guest.StackIsn + (uint)random.Next(-50, flow.StackSent + 50),
            _ => guest.StackIsn + (uint)flow.StackSent,
        };
        ushort window = random.Next(5) switch
        {
            0 => 0,
            1 => (ushort)random.Next(1, 64),
            2 => (ushort)random.Next(65536),
            _ => 65535,
        };
        harness.Deliver(guest.Frame(flags, payload, seq: guest.Isn + (uint)offset, ack: ack, window: window));
    }

    /// <summary>Checks a segment's data against the host's stream and records how far the stack got.</summary>
    private static void Observe(Flow flow, SentSegment segment)
    {
        var guest = flow.Guest;
        if (segment.Payload.Length > 0)
        {
            int offset = (int)(segment.Sequence - (guest.StackIsn + 1));
            Assert.True(offset >= 0 && offset + segment.Payload.Length <= flow.HostSent, $"{segment} outside the host's {flow.HostSent} bytes");
            Assert.Equal(TcpHarness.Bytes(segment.Payload.Length, start: offset), segment.Payload);
        }
        if (!segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Rst))
        {
            flow.StackSent = Math.Max(flow.StackSent, (int)(segment.Sequence - guest.StackIsn) + segment.Length);
            flow.StackAcked = (int)(segment.Acknowledgment - guest.Isn);
        }
    }

    private static void AssertWrittenInOrder(FakeTcpHostSocket host)
    {
        byte[] written = host.Written;
        for (int i = 0; i < written.Length; i++)
        {
            Assert.True(written[i] == GuestByte(i), $"byte {i} of {written.Length} written to the host is out of place");
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void RandomSegmentsOfAnyKindNeverBreakTheEngine(int seed)
    {
        // SYNs, resets and flags in any mix, on a few ports, with host connects completing or
        // failing at random: whatever happens, every frame sent is well-formed and all is
        // released at the end.
        var random = new Random(seed);
        var harness = new TcpHarness(new TcpOptions { ConnectTimeout = TimeSpan.FromSeconds(3), MaxRetransmits = 4 });
        var reported = new HashSet<FakeTcpConnector.Attempt>();
        for (int step = 0; step < Steps; step++)
        {
            var guest = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, (ushort)(42000 + random.Next(4))), TcpHarness.Remote);
            int action = random.Next(10);
            if (action < 6)
            {
                var flags = (TcpFlags)random.Next(256);
                byte[] options = (flags & TcpFlags.Syn) != 0 && random.Next(2) == 0 ? TcpSynOptionBytes.Build() : [];
                byte[] payload = new byte[random.Next(3) == 0 ? random.Next(1, 1500) : 0];
                uint seq = (uint)random.NextInt64(1L << 32) & (random.Next(2) == 0 ? 0xFFu : uint.MaxValue);
                harness.Deliver(guest.Frame(flags, payload, seq, (uint)random.NextInt64(1L << 32), (ushort)random.Next(65536), options));
            }
            else if (action < 8 && harness.Connector.Attempts.FirstOrDefault(a => a.Socket is not null && reported.Add(a)) is { } attempt)
            {
                var error = (TcpHostError)random.Next(1, 7);
                harness.OnHost(now =>
                {
                    if (random.Next(2) == 0)
                    {
                        attempt.Events.OnHostConnected(now);
                    }
                    else
                    {
                        attempt.Events.OnHostConnectFailed(error, now);
                    }
                });
            }
            else if (action < 9 && harness.Connector.Attempts.Where(a => a.Socket is { IsClosed: false }).LastOrDefault() is { } open)
            {
                open.Socket!.PeerSends(TcpHarness.Bytes(random.Next(1, 3000)));
                harness.OnHost(open.Events.OnHostReadable);
            }
            else
            {
                harness.Advance(TimeSpan.FromMilliseconds(random.Next(0, 1000)));
            }
            foreach (byte[] frame in harness.Sent.Take())
            {
                Assert.True(SentSegment.TryParse(frame, out _) || IsIcmpError(frame), Convert.ToHexString(frame));
            }
        }

        harness.Tcp.AbortGuest(TestFrames.Guest);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(0, harness.Tcp.Backlog.InUse);
        Assert.All(harness.Connector.Attempts, a => Assert.True(a.Socket is null || a.Socket.IsClosed));
    }

    private static bool IsIcmpError(byte[] frame)
    {
        var ip = Tests.Wire.Frames.Ipv4(frame);
        return ip.Protocol == IpProtocol.Icmp && Tests.Wire.Frames.Icmp(frame).Type == IcmpV4Type.DestinationUnreachable;
    }
}
