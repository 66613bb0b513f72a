using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// The guest's end of one connection, scripted by a test. It keeps its own next sequence
/// number (<see cref="Next"/>) and what it acknowledges (<see cref="Acked"/>), and builds its
/// segments from them; every field can be overridden per segment to send what no kernel would.
/// </summary>
internal sealed class TcpGuest(TcpHarness harness, IpEndpoint local, IpEndpoint remote, uint isn = 1000)
{
    public static readonly IpEndpoint DefaultLocal = new(TestFrames.Guest, 40000);

    public static readonly IpEndpoint DefaultLocalV6 = new(Ipv6Address.Parse("fdc4:f303:9324::3"), 40000);

    public TcpGuest(TcpHarness harness, uint isn = 1000)
        : this(harness, DefaultLocal, TcpHarness.Remote, isn)
    {
    }

    public IpEndpoint Local => local;

    public IpEndpoint Remote => remote;

    public TcpFlowKey Key => new(local, remote, harness.Link.Id);

    public uint Isn { get; } = isn;

    /// <summary>The guest's next sequence number.</summary>
    public uint Next { get; set; } = isn;

    /// <summary>What the guest acknowledges: the stack's next sequence number as far as the guest has it.</summary>
    public uint Acked { get; set; }

    /// <summary>The window field the guest sends (scaled by its shift once synchronized).</summary>
    public ushort Window { get; set; } = 65535;

    /// <summary>The stack's initial sequence number, once its SYN or SYN-ACK came.</summary>
    public uint StackIsn { get; private set; }

    private FakeTcpHostSocket? _acceptedHost;

    /// <summary>The host socket of this connection: the latest one the connector opened for it, or the accepted one.</summary>
    public FakeTcpHostSocket Host =>
        _acceptedHost ?? Assert.Single(harness.Connector.Attempts.Where(a => a.Flow == Key).TakeLast(1)).Socket!;

    public byte[] Frame(
        TcpFlags flags, ReadOnlySpan<byte> payload = default, uint? seq = null, uint? ack = null, ushort? window = null,
        ReadOnlySpan<byte> options = default) =>
        TestFrames.Tcp(TestFrames.GuestMac, local, remote, seq ?? Next, ack ?? Acked, flags, payload, options, window ?? Window);

    /// <summary>Sends a segment as a batch of its own, from the current state unless overridden; the state stays.</summary>
    public void Send(
        TcpFlags flags, ReadOnlySpan<byte> payload = default, uint? seq = null, uint? ack = null, ushort? window = null,
        ReadOnlySpan<byte> options = default) =>
        harness.Deliver(Frame(flags, payload, seq, ack, window, options));

    /// <summary>The guest's SYN, with Linux's options unless given.</summary>
    public void Syn(byte[]? options = null)
    {
        Send(TcpFlags.Syn, seq: Isn, ack: 0, options: options ?? TcpSynOptionBytes.Build());
        Next = Isn + 1;
    }

    /// <summary>
    /// Opens the connection as a guest's connect() does: SYN, the host connect completes,
    /// SYN-ACK, ACK. Returns the SYN-ACK; nothing else may have been sent.
    /// </summary>
    public SentSegment Connect(byte[]? options = null)
    {
        Syn(options);
        harness.AssertNothingSent();
        harness.OnHost(Host.Events.OnHostConnected);
        var synAck = harness.TakeOne();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        StackIsn = synAck.Sequence;
        Acked = StackIsn + 1;
        Ack();
        harness.AssertNothingSent();
        return synAck;
    }

    /// <summary>
    /// A published port's host client was accepted: the stack opens a connection into the
    /// guest. Returns the stack's SYN.
    /// </summary>
    public SentSegment AcceptFromStack()
    {
        // The guest has spoken before (DHCP, say): its MAC is known, so the SYN need not wait for ARP.
        harness.Stack.Neighbours.Learn(local.Address, TestFrames.GuestMac, harness.Link);
        var connection = harness.Tcp.OpenToGuest(local, remote, events => _acceptedHost = new FakeTcpHostSocket(events), harness.Now);
        Assert.NotNull(connection);
        harness.EndBatch();
        var syn = harness.TakeOne();
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        StackIsn = syn.Sequence;
        return syn;
    }

    /// <summary>Answers the stack's SYN with SYN-ACK (Linux's options unless given).</summary>
    public void SynAck(byte[]? options = null)
    {
        Acked = StackIsn + 1;
        Send(TcpFlags.Syn | TcpFlags.Ack, seq: Isn, options: options ?? TcpSynOptionBytes.Build());
        Next = Isn + 1;
    }

    /// <summary>Data at <see cref="Next"/>, which then moves past it.</summary>
    public void Data(ReadOnlySpan<byte> payload, TcpFlags flags = TcpFlags.Ack | TcpFlags.Psh)
    {
        Send(flags, payload);
        Next += (uint)payload.Length;
    }

    /// <summary>A pure ACK; <paramref name="ack"/> when given becomes what the guest acknowledges from now on.</summary>
    public void Ack(uint? ack = null, ushort? window = null)
    {
        if (ack is { } value)
        {
            Acked = value;
        }
        if (window is { } field)
        {
            Window = field;
        }
        Send(TcpFlags.Ack);
    }

    /// <summary>Acknowledges <paramref name="count"/> more bytes (or a FIN) of the stack's.</summary>
    public void AckMore(int count) => Ack(Acked + (uint)count);

    public void Fin()
    {
        Send(TcpFlags.Fin | TcpFlags.Ack);
        Next += 1;
    }

    public void Rst(uint? seq = null) => Send(TcpFlags.Rst, seq: seq ?? Next, ack: 0);
}
