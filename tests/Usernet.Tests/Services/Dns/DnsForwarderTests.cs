using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Usernet.Services.Dns;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class DnsForwarderTests
{
    private static readonly byte[] Name = DnsName.Encode("t.test");

    private static byte[] Answer(byte[] query, string text, byte responseCode = 0, bool truncated = false) =>
        DnsTestMessages.Upstream(query, responseCode, truncated ? [] : [DnsTestMessages.TxtRecord(text, 60)], truncated: truncated);

    private static string Text(byte[]? response)
    {
        Assert.NotNull(response);
        var parsed = DnsTestMessages.Parse(response);
        return System.Text.Encoding.ASCII.GetString(Assert.Single(parsed.Answers).Data[1..]);
    }

    private static Task<byte[]?> Forward(DnsForwarder forwarder, params IpEndpoint[] servers) =>
        forwarder.ForwardAsync(Name, DnsType.Txt, servers, TestContext.Current.CancellationToken);

    [Fact]
    public async Task AQueryIsAnsweredOverUdpWithARandomIdAndEdns()
    {
        byte[]? seen = null;
        using var server = new LoopbackNameserver(q => { seen = q; return Answer(q, "udp"); });
        Assert.Equal("udp", Text(await Forward(new DnsForwarder(TimeSpan.FromSeconds(2)), server.Endpoint)));
        Assert.NotNull(seen);
        Assert.Equal(DnsQueryStatus.Valid, DnsQuery.TryParse(seen, new byte[DnsName.MaxLength], out var query));
        Assert.True(query.HasEdns);
        Assert.Equal(DnsForwarder.UdpPayloadSize, query.UdpPayloadSize);
        Assert.True(query.RecursionDesired);
    }

    [Fact]
    public async Task ATruncatedAnswerIsFetchedAgainOverTcp()
    {
        using var server = new LoopbackNameserver(q => Answer(q, "", truncated: true), q => Answer(q, new string('x', 3000)));
        Assert.Equal(new string('x', 255), Text(await Forward(new DnsForwarder(TimeSpan.FromSeconds(2)), server.Endpoint))[..255]);
        Assert.Equal(1, server.TcpQueries);
    }

    [Fact]
    public async Task ASilentServerIsPassedOverForTheNext()
    {
        using var silent = new LoopbackNameserver(_ => null);
        using var live = new LoopbackNameserver(q => Answer(q, "second"));
        var clock = Stopwatch.StartNew();
        Assert.Equal("second", Text(await Forward(new DnsForwarder(TimeSpan.FromSeconds(1)), silent.Endpoint, live.Endpoint)));
        // The first server gets its share of the timeout (half of it), not all of it.
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 400, 950);
        Assert.Equal(1, silent.Queries);
    }

    [Fact]
    public async Task AServfailIsPassedOverButKeptWhenNothingBetterCame()
    {
        using var failing = new LoopbackNameserver(q => Answer(q, "", DnsResponseCode.ServerFailure));
        using var live = new LoopbackNameserver(q => Answer(q, "ok"));
        Assert.Equal("ok", Text(await Forward(new DnsForwarder(TimeSpan.FromSeconds(2)), failing.Endpoint, live.Endpoint)));
        var only = await Forward(new DnsForwarder(TimeSpan.FromSeconds(2)), failing.Endpoint);
        Assert.Equal(DnsResponseCode.ServerFailure, DnsTestMessages.Parse(only!).ResponseCode);
    }

    [Fact]
    public async Task AResponseWithAnotherIdOrQuestionIsIgnored()
    {
        using var server = new LoopbackNameserver(q =>
        {
            byte[] wrongId = Answer(q, "spoofed");
            wrongId[0] ^= 0xFF;
            return wrongId;
        });
        var forwarder = new DnsForwarder(TimeSpan.FromMilliseconds(600));
        Assert.Null(await Forward(forwarder, server.Endpoint));
        Assert.Equal(1, forwarder.Mismatched);
        Assert.False(DnsForwarder.Matches(Answer(DnsTestMessages.Query("other.test", DnsType.Txt), "x"), 0x1234, Name, DnsType.Txt));
        Assert.True(DnsForwarder.Matches(Answer(DnsTestMessages.Query("T.Test", DnsType.Txt), "x"), 0x1234, Name, DnsType.Txt));
    }

    [Fact]
    public async Task AClosedPortFailsAtOnce()
    {
        var closed = new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), (ushort)Ports());
        var clock = Stopwatch.StartNew();
        Assert.Null(await Forward(new DnsForwarder(TimeSpan.FromSeconds(5)), closed));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task AServerThatDoesNotKnowEdnsIsAskedWithout()
    {
        var withOpt = new List<bool>();
        using var server = new LoopbackNameserver(q =>
        {
            bool edns = q[11] == 1;
            withOpt.Add(edns);
            return edns ? Answer(q[..^DnsRecord.OptLength], "", DnsResponseCode.FormatError) : Answer(q, "old");
        });
        Assert.Equal("old", Text(await Forward(new DnsForwarder(TimeSpan.FromSeconds(2)), server.Endpoint)));
        Assert.Equal([true, false], withOpt);
    }

    private static int Ports()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
