using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>Segments no honest guest sends: each is dropped and counted under its reason, and nothing else happens.</summary>
public sealed class TcpMalformedSegmentTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "TCP header cut to 19 bytes", nameof(DropReason.TcpMalformed) },
        { "data offset 4 (16 bytes)", nameof(DropReason.TcpMalformed) },
        { "data offset past the segment", nameof(DropReason.TcpMalformed) },
        { "checksum wrong", nameof(DropReason.TcpBadChecksum) },
        { "SYN option of length 0", nameof(DropReason.TcpMalformed) },
        { "SYN option of length 1", nameof(DropReason.TcpMalformed) },
        { "SYN option running past the header", nameof(DropReason.TcpMalformed) },
        { "SYN option kind without its length", nameof(DropReason.TcpMalformed) },
        { "SYN with FIN", nameof(DropReason.TcpMalformed) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachMalformedSegmentIsDroppedUnderItsReasonOnly(string input, string expected)
    {
        var harness = new TcpHarness();

        harness.Deliver(Frame(input));

        var reason = Enum.Parse<DropReason>(expected);
        Assert.Equal(1, harness.StackCounters.Dropped(reason));
        Assert.Equal(1, harness.StackCounters.TotalDropped);
        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(0, harness.Tcp.Count);
        harness.AssertNothingSent();
    }

    private static byte[] Frame(string input)
    {
        var guest = TcpGuest.DefaultLocal;
        var remote = TcpHarness.Remote;
        byte[] Syn(params byte[] options) => TestFrames.TcpSegmentBytes(guest, remote, 1000, 0, TcpFlags.Syn, options: options);
        byte[] segment = Syn(TcpSynOptionBytes.Build());
        bool refillChecksum = true;
        switch (input)
        {
            case "TCP header cut to 19 bytes":
                segment = segment[..19];
                refillChecksum = false;
                break;
            case "data offset 4 (16 bytes)":
                segment[12] = 4 << 4;
                break;
            case "data offset past the segment":
                segment = Syn();
                segment[12] = 15 << 4;
                break;
            case "checksum wrong":
                segment[16] ^= 0xFF;
                refillChecksum = false;
                break;
            case "SYN option of length 0":
                segment = Syn(2, 0, 0, 0);
                break;
            case "SYN option of length 1":
                segment = Syn(3, 1, 1, 1);
                break;
            case "SYN option running past the header":
                segment = Syn(1, 3, 10, 7);
                break;
            case "SYN option kind without its length":
                segment = Syn(1, 1, 1, 2);
                break;
            case "SYN with FIN":
                segment[13] = (byte)(TcpFlags.Syn | TcpFlags.Fin);
                break;
            default:
                throw new ArgumentException(input);
        }
        if (refillChecksum)
        {
            TestFrames.FillTcpChecksum(segment, guest.Address, remote.Address);
        }
        return TestFrames.TcpFrame(TestFrames.GuestMac, guest.Address, remote.Address, segment);
    }

    [Fact]
    public void ASegmentWhoseChecksumTheLinkVouchedForIsTakenAsItIs()
    {
        // A guest with checksum offload leaves the field partial; its TAP says so.
        var harness = new TcpHarness();

        harness.Stack.Receive(Frame("checksum wrong"), harness.Link, harness.Now, checksumTrusted: true);
        harness.EndBatch();

        Assert.Equal(0, harness.StackCounters.TotalDropped);
        Assert.Single(harness.Connector.Attempts);
    }

    [Fact]
    public void TheOptionsOfADataSegmentAreSkippedNotTakenForData()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();
        byte[] timestamps = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];

        guest.Send(TcpFlags.Ack | TcpFlags.Psh, "data"u8, options: timestamps);

        Assert.Equal("data"u8.ToArray(), guest.Host.Written);
    }

    [Fact]
    public void ABrokenOptionOnADataSegmentIsIgnoredLikeLinuxDoes()
    {
        // Only a SYN's options are read; Linux too stops at a broken option and keeps the segment.
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();

        guest.Send(TcpFlags.Ack | TcpFlags.Psh, "data"u8, options: [8, 0, 0, 0]);

        Assert.Equal("data"u8.ToArray(), guest.Host.Written);
        Assert.Equal(0, harness.StackCounters.TotalDropped);
    }
}
