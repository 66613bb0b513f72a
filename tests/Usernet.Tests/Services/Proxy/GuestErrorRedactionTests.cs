using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Config;
using Usernet.Http;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Pac;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Tests.Services.Proxy;

/// <summary>
/// What a guest hears when the proxy fails: what went wrong, never with what. The upstream
/// proxy's address, user and password and the PAC script's location (which may carry
/// credentials or a token) stay in the host's log.
/// </summary>
public sealed class GuestErrorRedactionTests
{
    private const string Secret = "s3cret-pw";
    private const string Token = "T0K3N";

    private sealed class NoHost : IPacHost
    {
        public DateTimeOffset Now => DateTimeOffset.UnixEpoch;

        public TimeZoneInfo TimeZone => TimeZoneInfo.Utc;

        public Task<string?> DnsResolveAsync(string host) => Task.FromResult<string?>(null);

        public string MyIpAddress() => "192.0.2.7";
    }

    [Fact]
    public async Task APacThatCannotBeFetchedBlocksWithoutNamingIt()
    {
        using var closed = ClosedPort(out int port);
        string location = $"http://alice:{Secret}@127.0.0.1:{port}/proxy.pac?token={Token}";
        using var policy = ProxyPolicy.Build(Settings.Create(("proxy.mode", "manual"), ("proxy.pac", location)), new NoHost(), _ => null);
        Assert.NotNull(policy.PacError);
        Assert.DoesNotContain(Secret, policy.PacError + policy.Source);
        var route = Assert.Single(await policy.ChooseAsync("http", "web.test", 80));
        Assert.Equal(ProxyRouteKind.Reject, route.Kind);
        AssertSaysNothingOf(route.Reason!, "alice", "127.0.0.1", Token, "proxy.pac");
    }

    [Fact]
    public async Task APacAnswerThatCannotBeUsedIsNotQuoted()
    {
        using var policy = ProxyPolicy.Build(
            Settings.Create(("proxy.mode", "manual"), ("proxy.embeddedPac", $"function FindProxyForURL(u, h) {{ return 'PROXY alice:{Secret}@10.9.8.7:3128 extra'; }}")),
            new NoHost(), _ => null);
        var route = Assert.Single(await policy.ChooseAsync("https", "web.test", 443));
        Assert.Equal(ProxyRouteKind.Reject, route.Kind);
        AssertSaysNothingOf(route.Reason!, "alice", "10.9.8.7");
        Assert.Contains("web.test", route.Reason);
    }

    [Fact]
    public void ARefusalOfCredentialsNamesNeitherTheProxyNorTheUser()
    {
        ProxyUri.TryParse($"http://alice:{Secret}@proxy.corp.test:3128", out var proxy, out _);
        using var authentication = new ProxyAuthentication(proxy!, ProxyAuthentication.BasicAuthorization(proxy!));
        var response = HttpHeadParser.ParseResponse("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n\r\n"u8);
        var e = Assert.Throws<ProxyException>(() => authentication.Answer(response));
        Assert.Contains("alice", e.Message);
        Assert.Contains("proxy.corp.test", e.Message);
        Assert.StartsWith("the upstream proxy refused authentication", e.GuestMessage);
        AssertSaysNothingOf(e.GuestMessage, "alice", "proxy.corp.test", "3128");
    }

    [Fact]
    public async Task ADeadUpstreamIsReportedWithoutItsAddress()
    {
        using var closed = ClosedPort(out int port);
        var e = await Assert.ThrowsAsync<ProxyException>(() => SocketConnector.ConnectAsync(
            [IPAddress.Loopback], port, $"the upstream proxy http://127.0.0.1:{port}", TimeSpan.FromSeconds(5), CancellationToken.None, guestWhat: "the upstream proxy"));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Equal("cannot connect to the upstream proxy: connection refused", e.GuestMessage);
        // A direct connection's failure is the guest's own destination: it is told all of it.
        var direct = await Assert.ThrowsAsync<ProxyException>(() => SocketConnector.ConnectAsync(
            [IPAddress.Loopback], port, "web.test", TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(direct.Message, direct.GuestMessage);
    }

    [Fact]
    public async Task TheErrorResponseCarriesTheGuestMessageAndMasksAnyPasswordLeft()
    {
        var e = ProxyException.Upstream("the upstream proxy http://alice:***@proxy.corp.test:3128 closed the connection", "closed the connection");
        string written = await Written(stream => HttpProxyServer.WriteErrorAsync(stream, e, keepAlive: false));
        Assert.Contains("X-Usernet-Error: the upstream proxy closed the connection\r\n", written);
        Assert.EndsWith("usernet proxy: the upstream proxy closed the connection\n", written);
        AssertSaysNothingOf(written, "alice", "proxy.corp.test");
        string masked = await Written(stream => HttpProxyServer.WriteErrorAsync(stream, 502, $"see http://bob:{Secret}@x.test", keepAlive: false));
        Assert.DoesNotContain(Secret, masked);
    }

    private static async Task<string> Written(Func<Stream, Task> write)
    {
        using var stream = new MemoryStream();
        await write(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void AssertSaysNothingOf(string guestText, params string[] secrets)
    {
        Assert.DoesNotContain(Secret, guestText);
        foreach (string secret in secrets)
        {
            Assert.DoesNotContain(secret, guestText);
        }
    }

    /// <summary>A loopback port nothing listens on: bound, never listening, so connections are refused.</summary>
    private static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }
}
