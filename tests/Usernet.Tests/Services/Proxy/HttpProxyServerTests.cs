using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Nat;
using Usernet.Platform;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Upstream;
using Usernet.Wire;

namespace Usernet.Tests.Services.Proxy;

/// <summary>
/// A real <see cref="HttpProxyServer"/> in this process, above all its limits: the guest's
/// connection is a loopback TCP socket handed to it as the gateway would, and the origin a
/// loopback server the test scripts. The timeouts are made short here; their real values are
/// in <see cref="ProxyLimits"/>.
/// </summary>
public sealed class HttpProxyServerTests : IDisposable
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private readonly EventLoop _loop = new();
    private readonly TcpListener _origin = new(IPAddress.Loopback, 0);
    private readonly List<IDisposable> _owned = new();
    private readonly CancellationTokenSource _stop = new();
    private Func<NetworkStream, Task> _serve = _ => Task.CompletedTask;

    public HttpProxyServerTests()
    {
        _origin.Start();
        _ = AcceptOriginsAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _origin.Stop();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        _loop.Dispose();
    }

    private int OriginPort => ((IPEndPoint)_origin.LocalEndpoint).Port;

    /// <summary>Every connection to the origin is served by <see cref="_serve"/> as it is when it arrives.</summary>
    private async Task AcceptOriginsAsync()
    {
        try
        {
            while (true)
            {
                var connection = await _origin.AcceptTcpClientAsync(_stop.Token);
                lock (_owned)
                {
                    _owned.Add(connection);
                }
                var serve = _serve;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await serve(connection.GetStream());
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
                    {
                    }
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>Reads a request head and then <paramref name="bodyLength"/> bytes of body.</summary>
    private static async Task ReadRequestAsync(NetworkStream stream, int bodyLength = 0)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("the request ended within its head");
            }
            head.Add(one[0]);
        }
        await stream.ReadExactlyAsync(new byte[bodyLength]);
    }

    /// <summary>Reads and drops whatever comes until the other end closes: an origin that never answers.</summary>
    private static async Task DrainAsync(NetworkStream stream)
    {
        byte[] buffer = new byte[4096];
        while (await stream.ReadAsync(buffer) > 0)
        {
        }
    }

    private static Task AnswerAsync(NetworkStream stream, string body = "hello") =>
        stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}")).AsTask();

    private sealed class LoopbackNames : IProxyNameResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancel) => Task.FromResult(new[] { IPAddress.Loopback });
    }

    private HttpProxyServer Proxy(ProxyLimits limits) =>
        new(() => ProxyPolicy.Direct, new UpstreamConnector(new LoopbackNames(), (IPAddress a, string _, int _, out string? denial) => { denial = null; return a; }, TimeSpan.FromSeconds(5), limits.UpstreamAnswer),
            new ResolvedNames(), new ProxyCounters(), limits);

    private static ProxyLimits Limits(TimeSpan? idle = null, TimeSpan? head = null, TimeSpan? body = null, TimeSpan? answer = null, long? buffers = null) => new()
    {
        Idle = idle ?? Long,
        RequestHead = head ?? Long,
        RequestBodyIdle = body ?? Long,
        UpstreamAnswer = answer ?? Long,
        MaxBufferedBytes = buffers ?? new ProxyLimits().MaxBufferedBytes,
    };

    /// <summary>A guest connection to the proxy: the test's end, the proxy's handed to the server.</summary>
    private Socket Connect(HttpProxyServer proxy)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var guest = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        guest.Connect(listener.LocalEndpoint);
        var served = listener.AcceptSocket();
        _owned.Add(guest);
        proxy.Accept(served, new GuestConnection(_loop, new IpEndpoint(Ipv4Address.Parse("192.168.65.3"), 40000)));
        return guest;
    }

    private static void Send(Socket guest, string text) => guest.Send(Encoding.ASCII.GetBytes(text));

    /// <summary>Everything the proxy sends until it closes the connection.</summary>
    private static string ReadToClose(Socket guest)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = guest.Receive(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }
        return Encoding.ASCII.GetString(received.ToArray());
    }

    /// <summary>One response: its head and as many bytes of body as its Content-Length says.</summary>
    private static string ReadResponse(Socket guest)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        while (true)
        {
            string text = Encoding.ASCII.GetString(received.ToArray());
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var length = System.Text.RegularExpressions.Regex.Match(text[..end], @"Content-Length: (\d+)");
                if (received.Count >= end + 4 + (length.Success ? int.Parse(length.Groups[1].Value) : 0))
                {
                    return text;
                }
            }
            int n = guest.Receive(buffer);
            if (n == 0)
            {
                return text;
            }
            received.AddRange(buffer.AsSpan(0, n));
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"waited 10 s for {what}");
            Thread.Sleep(10);
        }
    }

    [Fact]
    public void AClientsConnectionCloseIsHonoured()
    {
        // The field was read after the hop-by-hop fields had been removed, so the answer said
        // keep-alive and the connection stayed open: a client reading to the end waited for
        // the idle timeout.
        _serve = async stream =>
        {
            await ReadRequestAsync(stream);
            await AnswerAsync(stream);
        };
        var proxy = Proxy(Limits());
        var guest = Connect(proxy);

        Send(guest, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n");

        string answer = ReadToClose(guest);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("\r\nConnection: close\r\n", answer);
        Assert.EndsWith("hello", answer);
    }

    [Fact]
    public void AHeadSentHalfwayIsAnswered408AfterTheHeadTimeout()
    {
        var proxy = Proxy(Limits(head: Short));
        var guest = Connect(proxy);
        var watch = Stopwatch.StartNew();

        Send(guest, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n");

        string answer = ReadToClose(guest);
        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", answer);
        Assert.InRange(watch.Elapsed, Short - TimeSpan.FromMilliseconds(100), Short + TimeSpan.FromSeconds(5));
        Assert.Equal(1, proxy.Counters.Timeouts);
    }

    [Fact]
    public void AHeadTrickledByteByByteIsBoundedByTheHeadTimeoutNotTheIdleOne()
    {
        var proxy = Proxy(Limits(idle: Long, head: TimeSpan.FromSeconds(1)));
        var guest = Connect(proxy);
        var watch = Stopwatch.StartNew();
        string request = $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\nX-Slow: {new string('x', 100)}";

        var trickle = Task.Run(async () =>
        {
            foreach (char c in request)
            {
                try
                {
                    guest.Send([(byte)c]);
                }
                catch (SocketException)
                {
                    return;
                }
                await Task.Delay(50);
            }
        }, TestContext.Current.CancellationToken);

        Assert.StartsWith("HTTP/1.1 408 ", ReadToClose(guest));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(6));
    }

    [Fact]
    public void AConnectionThatSendsNothingIsClosedQuietlyAfterTheIdleTimeout()
    {
        var proxy = Proxy(Limits(idle: Short));
        var watch = Stopwatch.StartNew();
        var guest = Connect(proxy);

        Assert.Equal("", ReadToClose(guest));
        Assert.InRange(watch.Elapsed, Short - TimeSpan.FromMilliseconds(100), Short + TimeSpan.FromSeconds(5));
        Assert.Equal(0, proxy.Counters.Timeouts);
    }

    [Fact]
    public void AKeptAliveConnectionIsServedThenClosedWhenIdle()
    {
        // The proxy keeps its connection to the origin for the second request too.
        _serve = async stream =>
        {
            while (true)
            {
                await ReadRequestAsync(stream);
                await AnswerAsync(stream);
            }
        };
        var proxy = Proxy(Limits(idle: TimeSpan.FromSeconds(2), head: Short, body: Short));
        var guest = Connect(proxy);

        Send(guest, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", ReadResponse(guest));
        // The short limits of a head and a body under way are not for the wait for the next one.
        Thread.Sleep(Short * 2);
        Send(guest, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", ReadResponse(guest));

        Assert.Equal("", ReadToClose(guest));
    }

    [Fact]
    public void ABodyThatStopsIsAnswered408()
    {
        var originHead = new TaskCompletionSource();
        _serve = async stream =>
        {
            await ReadRequestAsync(stream);
            originHead.TrySetResult();
            await DrainAsync(stream);
        };
        var proxy = Proxy(Limits(body: Short));
        var guest = Connect(proxy);

        Send(guest, $"POST http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 100\r\n\r\n0123456789");
        var watch = Stopwatch.StartNew();

        Assert.StartsWith("HTTP/1.1 408 ", ReadToClose(guest));
        Assert.True(originHead.Task.IsCompleted);
        Assert.InRange(watch.Elapsed, Short - TimeSpan.FromMilliseconds(100), Short + TimeSpan.FromSeconds(5));
        Assert.Equal(1, proxy.Counters.Timeouts);
    }

    [Fact]
    public void AnOriginThatNeverAnswersGets504AfterTheAnswerTimeout()
    {
        _serve = async stream =>
        {
            await ReadRequestAsync(stream);
            await DrainAsync(stream);
        };
        var proxy = Proxy(Limits(answer: Short));
        var guest = Connect(proxy);
        var watch = Stopwatch.StartNew();

        Send(guest, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");

        string answer = ReadToClose(guest);
        Assert.StartsWith("HTTP/1.1 504 Gateway Timeout\r\n", answer);
        Assert.Contains("did not answer within 0.5 s", answer);
        Assert.InRange(watch.Elapsed, Short - TimeSpan.FromMilliseconds(100), Short + TimeSpan.FromSeconds(5));
        Assert.Equal(1, proxy.Counters.Timeouts);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("socks5h")]
    public async Task AnUpstreamProxyThatAcceptsAndNeverAnswersFailsWithin504(string scheme)
    {
        _serve = DrainAsync;
        var connect = TimeSpan.FromMilliseconds(300);
        var connector = new UpstreamConnector(new LoopbackNames(), (IPAddress a, string _, int _, out string? denial) => { denial = null; return a; }, connect, Short);
        Assert.True(Usernet.Config.ProxyUri.TryParse($"{scheme}://127.0.0.1:{OriginPort}", out var upstream, out _));
        var watch = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<ProxyException>(() => connector.OpenTunnelAsync(ProxyRoute.Through(upstream), "origin.test", 443, null));

        Assert.Equal(504, e.Status);
        Assert.InRange(watch.Elapsed, Short, connect + Short + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void TheAnswerTimeStartsWhenTheBodyHasBeenSent()
    {
        // The upload takes longer than the answer may: it is not cut short.
        const int chunks = 10;
        _serve = async stream =>
        {
            await ReadRequestAsync(stream, bodyLength: chunks * 10);
            await AnswerAsync(stream);
        };
        var proxy = Proxy(Limits(body: TimeSpan.FromSeconds(5), answer: TimeSpan.FromMilliseconds(300)));
        var guest = Connect(proxy);

        Send(guest, $"POST http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\nContent-Length: {chunks * 10}\r\n\r\n");
        for (int i = 0; i < chunks; i++)
        {
            Thread.Sleep(100);
            Send(guest, "0123456789");
        }

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", ReadResponse(guest));
        Assert.Equal(0, proxy.Counters.Timeouts);
    }

    [Fact]
    public void ATunnelHasNoTimer()
    {
        _serve = async stream =>
        {
            byte[] buffer = new byte[100];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
            }
        };
        var proxy = Proxy(Limits(idle: Short, head: Short, body: Short, answer: Short));
        var guest = Connect(proxy);
        Send(guest, $"CONNECT origin.test:{OriginPort} HTTP/1.1\r\nHost: origin.test:{OriginPort}\r\n\r\n");
        byte[] buffer = new byte[100];
        int n = guest.Receive(buffer);
        Assert.StartsWith("HTTP/1.1 200 ", Encoding.ASCII.GetString(buffer, 0, n));

        // Silent for longer than every limit, then the tunnel still carries bytes.
        Thread.Sleep(Short * 3);
        Send(guest, "still there?");
        n = guest.Receive(buffer);
        Assert.Equal("still there?", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public void BeyondTheBufferBudgetNewWorkIsRefusedWith503AndCounted()
    {
        _serve = async stream =>
        {
            await ReadRequestAsync(stream);
            await AnswerAsync(stream);
        };
        // Room for three readers: two idle guest connections and a third's, but not its upstream's.
        var proxy = Proxy(Limits(buffers: 3 * Usernet.Http.HttpReader.DefaultBufferLength));
        var idle = new[] { Connect(proxy), Connect(proxy) };
        var third = Connect(proxy);
        WaitFor(() => proxy.Buffers.InUse == 3 * Usernet.Http.HttpReader.DefaultBufferLength, "three connections' buffers");

        Send(third, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");
        var refused = ReadResponse(third);
        Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", refused);
        Assert.Contains("buffers", refused);
        Assert.StartsWith("HTTP/1.1 503 Service Unavailable\r\n", ReadToClose(Connect(proxy)));
        Assert.Equal(2, proxy.Counters.OverBudget);

        // Once the idle ones go, their room is there for the next.
        foreach (var socket in idle)
        {
            socket.Close();
        }
        WaitFor(() => proxy.Buffers.InUse == Usernet.Http.HttpReader.DefaultBufferLength, "the closed connections' buffers");
        Send(third, $"GET http://origin.test:{OriginPort}/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", ReadResponse(third));
        third.Close();
        WaitFor(() => proxy.Buffers.InUse == 0, "every buffer given back");
    }
}
