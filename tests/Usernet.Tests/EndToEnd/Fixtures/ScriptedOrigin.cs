namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A small origin server written here in Python's standard library, for the answers nginx
/// cannot be made to give: a chunked response (<c>/chunked</c>), a WebSocket upgrade whose
/// connection then echoes every byte after a greeting from the server (<c>/ws</c>), a response
/// cut by a reset halfway (<c>/cut</c>), and an answer only after the whole chunked request body
/// (<c>/consume</c>; nginx answers at once and drops the body). It runs on a test host, port
/// <see cref="Port"/>.
/// </summary>
internal static class ScriptedOrigin
{
    public const int Port = 8765;

    /// <summary>The first bytes the server sends after 101, before the client sent any.</summary>
    public const string Greeting = "server speaks first\n";

    /// <summary>The body /chunked sends, in three chunks.</summary>
    public const string ChunkedBody = "hello chunked world\n";

    private const string Script = """
        import base64, hashlib, socket, struct, sys, threading

        def serve(conn):
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = conn.recv(4096)
                    if not more:
                        return
                    data += more
                head, rest = data.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                fields = {}
                for line in lines[1:]:
                    name, value = line.split(":", 1)
                    fields[name.strip().lower()] = value.strip()
                if target == "/chunked":
                    chunks = [b"hello ", b"chunked ", b"world\n"]
                    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
                elif target == "/ws" and fields.get("upgrade", "").lower() == "websocket":
                    key = fields["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
                    accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
                    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
                    conn.sendall(b"server speaks first\n" + rest)
                    while True:
                        more = conn.recv(65536)
                        if not more:
                            break
                        conn.sendall(more)
                elif target == "/consume":
                    # Answers only once the whole chunked body has come: never before a bad one.
                    while not rest.endswith(b"0\r\n\r\n"):
                        more = conn.recv(65536)
                        if not more:
                            return
                        rest += more
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nconsumed\n")
                elif target == "/cut":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" + b"x" * 1000)
                    # Zero linger: the close sends RST, as a crashed or killed server's does.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", int(sys.argv[1])))
        listener.listen(64)
        print("listening", flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """;

    /// <summary>Starts it on <paramref name="host"/> (which kills it) from <paramref name="directory"/>, and waits until it listens.</summary>
    public static void Start(TestHost host, string directory)
    {
        string path = Path.Combine(directory, "origin.py");
        File.WriteAllText(path, Script);
        var process = host.Start("python3", path, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        process.WaitUntilReady(() => process.Stdout.Split('\n').Contains("listening"), TimeSpan.FromSeconds(15));
    }
}
