using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Slowloris against the guests' proxy: many connections that send half a request head and
/// then nothing. A normal request still gets through, and the half-open ones are answered 408
/// and closed once the head timeout (10 s, <see cref="Services.Proxy.ProxyLimits.RequestHead"/>)
/// is over; they used to stay for the 2 minutes a connection may wait between requests.
/// </summary>
public sealed class ProxySlowlorisTests
{
    private const int HalfOpen = 100;

    private const string Client = """
        import select, socket, sys, time
        port, count = int(sys.argv[1]), int(sys.argv[2])
        half = []
        for i in range(count):
            s = socket.create_connection(("192.168.65.1", 3128), timeout=10)
            s.sendall(b"GET http://192.168.65.254:%d/ HTTP/1.1\r\nHost: 192.168.65.254\r\n" % port)
            half.append(s)
        opened = time.monotonic()
        start = time.monotonic()
        c = socket.create_connection(("192.168.65.1", 3128), timeout=10)
        c.sendall(b"GET http://192.168.65.254:%d/ HTTP/1.1\r\nHost: 192.168.65.254\r\nConnection: close\r\n\r\n" % port)
        answer = b""
        # The head and the origin's 6-byte body.
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + 6:
            more = c.recv(4096)
            if not more:
                break
            answer += more
        print("normal: %s in %.1f s" % (answer.split(b"\r\n")[0].decode(), time.monotonic() - start))
        first_lines = {}
        closed = []
        pending = list(half)
        while pending and time.monotonic() < opened + 60:
            ready, _, _ = select.select(pending, [], [], 1)
            for s in ready:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data:
                    first_lines.setdefault(s, data.split(b"\r\n")[0].decode())
                else:
                    closed.append(time.monotonic() - opened)
                    pending.remove(s)
        print("closed: %d of %d, the last after %.1f s" % (len(closed), count, max(closed) if closed else -1))
        print("408: %d" % sum(1 for line in first_lines.values() if line.startswith("HTTP/1.1 408")))
        """;

    [RootFact]
    public void HalfOpenRequestsDoNotStopANormalOneAndCloseAfterTheHeadTimeout()
    {
        using var origin = new LoopbackListener();
        origin.ServeEach(async client =>
        {
            var stream = client.GetStream();
            byte[] buffer = new byte[4096];
            var head = new StringBuilder();
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buffer);
                if (n == 0)
                {
                    return;
                }
                head.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"u8.ToArray());
        });
        using var session = GuestSession.Start();
        var run = session.Exec(["python3", "-c", Client, origin.Port.ToString(CultureInfo.InvariantCulture), HalfOpen.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        var normal = Regex.Match(run.Stdout, @"normal: HTTP/1.1 200 OK in ([\d.]+) s");
        Assert.True(normal.Success, run.Stdout);
        Assert.True(double.Parse(normal.Groups[1].Value, CultureInfo.InvariantCulture) < 5, run.Stdout);
        var closed = Regex.Match(run.Stdout, @"closed: (\d+) of \d+, the last after ([\d.-]+) s");
        Assert.True(closed.Success, run.Stdout);
        Assert.Equal(HalfOpen, int.Parse(closed.Groups[1].Value, CultureInfo.InvariantCulture));
        // 10 s from each head's first byte, with room for a busy machine.
        Assert.True(double.Parse(closed.Groups[2].Value, CultureInfo.InvariantCulture) < 25, run.Stdout);
        Assert.Contains($"408: {HalfOpen}", run.Stdout);
        Assert.True(session.Stats().GetProperty("proxy").GetProperty("timeouts").GetInt64() >= HalfOpen);
    }
}
