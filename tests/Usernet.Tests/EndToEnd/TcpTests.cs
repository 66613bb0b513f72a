using System.Net.Sockets;
using System.Text;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>Guest TCP through host sockets, with real programs on both sides.</summary>
public sealed class TcpTests
{
    [RootFact]
    public void CurlFetchesFromNginxOnHostLoopbackThroughTheHostIp()
    {
        using var nginx = Nginx.Start();
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "10", $"http://192.168.65.254:{nginx.Port}/"], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello from nginx\n", result.Stdout);
    }

    [RootFact]
    public void AClosedHostPortIsRefusedAtOnce()
    {
        int port = Ports.Free();
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "10", "-w", "code=%{exitcode} seconds=%{time_total}", $"http://192.168.65.254:{port}/"],
            TimeSpan.FromSeconds(30));
        Assert.Contains("code=7", result.Stdout);
        Assert.Contains("Couldn't connect to server", result.Stderr);
        // curl's own clock, from its connect to its failure: the time to start curl is not Usernet's.
        double ms = double.Parse(result.Stdout.Split("seconds=")[1].Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1000;
        Assert.True(ms < 100, $"refusal took {ms:0} ms");
    }

    [RootFact]
    public void ATestHostInItsOwnNamespaceIsReached()
    {
        using var host = TestHost.Create();
        using var nginx = Nginx.Start("0.0.0.0", host);
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "10", $"http://{host.Address}:{nginx.Port}/"], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello from nginx\n", result.Stdout);
    }

    [RootFact]
    public void AnUnreachableHostIsReportedNotWaitedFor()
    {
        using var host = TestHost.Create();
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "20", $"http://{host.Vacant}:80/"], TimeSpan.FromSeconds(40));
        Assert.Equal(7, result.ExitCode);
        Assert.Contains("Couldn't connect to server", result.Stderr);
    }

    [RootFact]
    public void WithoutHostLoopbackTheHostIpRefuses()
    {
        using var nginx = Nginx.Start();
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--set", "network.hostLoopback=false", "--", "curl", "-sS", "-m", "10", $"http://192.168.65.254:{nginx.Port}/"],
            TimeSpan.FromSeconds(30));
        Assert.Equal(7, result.ExitCode);
    }

    [RootFact]
    public void AGatewayPortWithoutAServiceRefuses()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "10", "http://192.168.65.1:80/"], TimeSpan.FromSeconds(30));
        Assert.Equal(7, result.ExitCode);
    }

    [RootFact]
    public async Task HalfCloseIsPreserved()
    {
        // The host answers only after it has seen the guest's end of stream.
        using var listener = new LoopbackListener();
        int port = listener.Port;
        var server = listener.ServeOne(async client =>
        {
            var stream = client.GetStream();
            var received = new MemoryStream();
            await stream.CopyToAsync(received, TestContext.Current.CancellationToken);
            byte[] answer = Encoding.ASCII.GetBytes($"got {received.Length} bytes after EOF\n");
            await stream.WriteAsync(answer, TestContext.Current.CancellationToken);
            client.Client.Shutdown(SocketShutdown.Send);
            return Encoding.ASCII.GetString(received.ToArray());
        });
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "sh", "-c", $"printf 'the request' | socat -t 10 - TCP:192.168.65.254:{port}"], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("got 11 bytes after EOF\n", result.Stdout);
        Assert.Equal("the request", await server.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [RootFact]
    public async Task AHostResetReachesTheGuestAsAReset()
    {
        using var listener = new LoopbackListener();
        int port = listener.Port;
        var server = listener.ServeOne(async client =>
        {
            byte[] buffer = new byte[5];
            await client.GetStream().ReadExactlyAsync(buffer, TestContext.Current.CancellationToken);
            // Zero linger: close sends RST.
            client.Client.LingerState = new LingerOption(true, 0);
            client.Client.Close();
        });
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "curl", "-sS", "-m", "10", $"http://192.168.65.254:{port}/"], TimeSpan.FromSeconds(30));
        await server.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(56, result.ExitCode);
        Assert.Contains("Connection reset by peer", result.Stderr);
    }

    [RootFact]
    public async Task AGuestResetReachesTheHostAsAReset()
    {
        using var listener = new LoopbackListener();
        int port = listener.Port;
        var server = listener.ServeOne(async client =>
        {
            var stream = client.GetStream();
            byte[] buffer = new byte[64];
            await stream.ReadExactlyAsync(buffer.AsMemory(0, 5), TestContext.Current.CancellationToken);
            try
            {
                while (await stream.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0)
                {
                }
                return "eof";
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                return "reset";
            }
        });
        // Zero linger and no shutdown: close() sends RST and nothing else (socat sends FIN first).
        string client =
            "import socket, struct\n" +
            $"s = socket.create_connection(('192.168.65.254', {port}))\n" +
            "s.sendall(b'hello')\n" +
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n" +
            "s.close()\n";
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--", "python3", "-c", client], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("reset", await server.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }
}
