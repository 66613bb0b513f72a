using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>HTTP details through the proxy: upgrades, HTTP/1.0 clients, and a PAC script fetched over HTTP.</summary>
public sealed partial class ProxyTests
{
    /// <summary>
    /// A WebSocket handshake through the proxy, then bytes both ways on the upgraded
    /// connection: the server's greeting first, then each message echoed, then a clean end.
    /// </summary>
    [RootFact]
    public void AWebSocketUpgradeBecomesATwoWayConnection()
    {
        var guest = StartGuest("");
        string output = RunPython(guest, $$"""
            import base64, hashlib, os, socket
            s = socket.create_connection(("192.168.65.1", 3128), timeout=20)
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall(("GET http://web.test:{{ScriptedOrigin.Port}}/ws HTTP/1.1\r\nHost: web.test:{{ScriptedOrigin.Port}}\r\n"
                       "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            print(lines[0])
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            print("accept ok" if "Sec-WebSocket-Accept: " + accept in lines else "accept wrong")
            def read(count, data):
                while len(data) < count:
                    more = s.recv(4096)
                    if not more:
                        break
                    data += more
                return data
            greeting = b"{{ScriptedOrigin.Greeting.TrimEnd('\n')}}\n"
            print(read(len(greeting), rest).decode(), end="")
            for i in range(3):
                message = ("message %d\n" % i).encode() * 1000
                s.sendall(message)
                print("echo ok" if read(len(message), b"") == message else "echo wrong")
            s.shutdown(socket.SHUT_WR)
            print("end" if s.recv(1) == b"" else "more")
            """);
        Assert.Equal($"HTTP/1.1 101 Switching Protocols\naccept ok\n{ScriptedOrigin.Greeting}echo ok\necho ok\necho ok\nend\n", output);
    }

    /// <summary>
    /// nginx answers an upload it does not want right after its 100 Continue, before the body.
    /// This client reads the whole answer and only then sends the body, and then a second
    /// request on the same connection: the proxy must read the rest of the body rather than
    /// close (a close with it unread is a reset), and then serve the next request.
    /// </summary>
    [RootFact]
    public void AnAnswerBeforeTheRequestBodyLeavesTheConnectionUsable()
    {
        var guest = StartGuest("");
        string output = RunPython(guest, """
            import socket
            s = socket.create_connection(("192.168.65.1", 3128), timeout=20)
            def read_until(end):
                data = b""
                while not data.endswith(end):
                    more = s.recv(65536)
                    if not more:
                        return data + b" [connection ended]"
                    data += more
                return data
            s.sendall(b"POST http://web.test/post HTTP/1.1\r\nHost: web.test\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n")
            first = read_until(b"got 200000\n")
            print(first.split(b"\r\n")[0].decode(), first.split(b"\r\n\r\n")[1].split(b"\r\n")[0].decode(), sep="; ")
            s.sendall(b"x" * 200000 + b"GET http://web.test/ HTTP/1.1\r\nHost: web.test\r\n\r\n")
            second = read_until(b"hello from the test host\n")
            print(second.split(b"\r\n")[0].decode(), second.split(b"\r\n\r\n")[-1].decode(), sep="; ", end="")
            """);
        Assert.Equal($"HTTP/1.1 100 Continue; HTTP/1.1 200 OK\nHTTP/1.1 200 OK; {Hello}", output);
    }

    /// <summary>
    /// An HTTP/1.0 client cannot read chunked framing (RFC 9112 §6.1): a chunked response
    /// reaches it decoded, ended by the close. An HTTP/1.1 client still gets it chunked.
    /// </summary>
    [RootFact]
    public void AChunkedResponseReachesAnHttp10ClientDecoded()
    {
        var guest = StartGuest("");
        // In base64, so that the answer's CRs survive the trip through the shell's output.
        string Raw(string request) => System.Text.Encoding.Latin1.GetString(Convert.FromBase64String(
            guest.Shell($"printf '{request}' | timeout 10 busybox nc 192.168.65.1 3128 | base64 -w0", TimeSpan.FromSeconds(20)).Stdout.Trim()));
        string url = $"http://web.test:{ScriptedOrigin.Port}/chunked";
        string old = Raw($"GET {url} HTTP/1.0\\r\\n\\r\\n");
        Assert.StartsWith("HTTP/1.1 200", old);
        Assert.DoesNotContain("Transfer-Encoding", old, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Connection: close", old);
        Assert.EndsWith("\r\n\r\n" + ScriptedOrigin.ChunkedBody, old);
        Assert.Equal(ScriptedOrigin.ChunkedBody, Curl(guest, $"-0 {ViaProxy} {url}"));

        string current = Raw($"GET {url} HTTP/1.1\\r\\nHost: web.test\\r\\nConnection: close\\r\\n\\r\\n");
        Assert.Contains("Transfer-Encoding: chunked", current);
        Assert.EndsWith("\r\n\r\n6\r\nhello \r\n8\r\nchunked \r\n6\r\nworld\n\r\n0\r\n\r\n", current);
    }

    /// <summary>
    /// A PAC script fetched from nginx over http://, whose answer lists a dead proxy before
    /// squid: the routes are tried in order. A PAC URL that gives 404 blocks, and says so.
    /// </summary>
    [RootFact]
    public void APacScriptFetchedOverHttpIsFollowedInOrder()
    {
        var squid = StartSquid();
        int dead = Ports.Free();
        string name = $"{TestEnvironment.UniqueName("pac")}.pac";
        string served = Path.Combine(world.Root, name);
        File.WriteAllText(served, $$"""
            function FindProxyForURL(url, host) {
                if (dnsDomainIs(host, ".corp.test")) return "PROXY 127.0.0.1:{{dead}}; PROXY 127.0.0.1:{{squid.Port}}; DIRECT";
                return "DIRECT";
            }
            """);
        try
        {
            string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
            var guest = StartGuest($$"""
                "proxy": { "mode": "manual", "http": "{{url}}", "pac": "http://{{world.Host.Address}}:8080/{{name}}" }
                """);
            Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.corp.test/"));
            Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.other.test/"));
            string log = squid.AccessLog;
            Assert.Contains("GET http://web.corp.test/ alice", log);
            Assert.DoesNotContain("web.other.test", log);

            WriteSettings($$"""
                "proxy": { "mode": "manual", "pac": "http://{{world.Host.Address}}:8080/missing-{{name}}" }
                """);
            Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "reload", "--instance", guest.Instance).ExitCode);
            string blocked = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.other.test/");
            Assert.Contains("403", blocked);
            Assert.Contains("404", blocked);
        }
        finally
        {
            File.Delete(served);
        }
    }
}
