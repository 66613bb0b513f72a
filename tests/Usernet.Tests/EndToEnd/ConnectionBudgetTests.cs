using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The guests' connections and those remote clients open through published ports have
/// budgets of their own (tcp.maxConnections, tcp.maxInboundConnections): they used to share
/// one, so that clients holding connections to a published port made every guest SYN fail.
/// The budgets are made small here; the guest's echo server stands behind the published port.
/// </summary>
public sealed class ConnectionBudgetTests
{
    private const int Budget = 4;

    private static GuestSession StartEchoGuest(int hostPort) => GuestSession.StartRunning(
        ["--set", $"tcp.maxConnections={Budget}", "--set", $"tcp.maxInboundConnections={Budget}", "-p", $"127.0.0.1:{hostPort}:9000"],
        "socat", "TCP-LISTEN:9000,fork,reuseaddr", "EXEC:cat");

    /// <summary>A client of the published port whose line came back from the guest, or null when it was refused.</summary>
    private static TcpClient? EchoThroughPublishedPort(int port, string line)
    {
        var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            client.ReceiveTimeout = 5000;
            var stream = client.GetStream();
            stream.Write(Encoding.ASCII.GetBytes(line));
            byte[] back = new byte[line.Length];
            int got = 0;
            while (got < back.Length)
            {
                int n = stream.Read(back, got, back.Length - got);
                if (n == 0)
                {
                    break;
                }
                got += n;
            }
            if (Encoding.ASCII.GetString(back, 0, got) == line)
            {
                return client;
            }
        }
        catch (IOException)
        {
        }
        catch (SocketException)
        {
        }
        client.Dispose();
        return null;
    }

    /// <summary>The guest sends a line to the host's echo server and prints what came back.</summary>
    private static ProcessResult GuestEcho(GuestSession session, int port) =>
        session.Shell($"echo from-the-guest | socat -t 5 - TCP:192.168.65.254:{port},connect-timeout=5", TimeSpan.FromSeconds(20));

    private static JsonElement Tcp(GuestSession session) => session.Stats().GetProperty("tcp");

    [RootFact]
    public void AFullInboundBudgetLeavesTheGuestsConnectionsOpen()
    {
        int port = Ports.Free();
        using var echo = new LoopbackListener();
        echo.EchoEach();
        using var session = StartEchoGuest(port);
        var clients = new List<TcpClient>();
        try
        {
            // The first waits for the guest's server to listen.
            TcpClient? first = null;
            Assert.True(Wait.Until(() => (first = EchoThroughPublishedPort(port, "first\n")) is not null, 10), session.Stderr);
            clients.Add(first!);
            for (int i = 1; i < Budget; i++)
            {
                clients.Add(EchoThroughPublishedPort(port, $"client {i}\n") ?? throw new Xunit.Sdk.XunitException($"client {i} within the budget was refused"));
            }

            Assert.Null(EchoThroughPublishedPort(port, "one too many\n"));
            var guest = GuestEcho(session, echo.Port);

            Assert.True(guest.ExitCode == 0 && guest.Stdout.Contains("from-the-guest"), guest.ToString());
            var tcp = Tcp(session);
            Assert.True(tcp.GetProperty("inboundLimitReached").GetInt64() >= 1, tcp.ToString());
            Assert.Equal(0, tcp.GetProperty("limitReached").GetInt64());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [RootFact]
    public void AFullGuestBudgetLeavesThePublishedPortsOpen()
    {
        int port = Ports.Free();
        using var echo = new LoopbackListener();
        echo.EchoEach();
        using var session = StartEchoGuest(port);
        // The guest holds its whole budget open: connections to the echo server that wait for a line.
        ProcessRunner.Check(session.Shell($"for i in $(seq {Budget}); do (socat -u TCP:192.168.65.254:{echo.Port} /dev/null >/dev/null 2>&1 &); done"));
        Assert.True(Wait.Until(() => Tcp(session) is var tcp
            && tcp.GetProperty("connections").GetInt64() - tcp.GetProperty("inboundConnections").GetInt64() == Budget, 10), Tcp(session).ToString());

        var refused = GuestEcho(session, echo.Port);
        using var client = EchoThroughPublishedPort(port, "from the host\n");

        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.NotNull(client);
        var tcp = Tcp(session);
        Assert.True(tcp.GetProperty("limitReached").GetInt64() >= 1, tcp.ToString());
        Assert.Equal(0, tcp.GetProperty("inboundLimitReached").GetInt64());
    }
}
