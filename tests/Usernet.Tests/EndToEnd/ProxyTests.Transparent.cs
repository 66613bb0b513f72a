using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>How transparent and tunnelled connections end when they cannot be carried or are cut.</summary>
public sealed partial class ProxyTests
{
    /// <summary>
    /// A transparent connection has its SYN-ACK before the proxy decides, so a block or a dead
    /// upstream must end it with RST: a FIN would read as a successful, empty answer. The client
    /// only reads, as the client of a server-speaks-first protocol does, so the guest has sent
    /// nothing that could have turned a close into a reset by itself.
    /// </summary>
    [RootFact]
    public void ABlockedOrFailedTransparentConnectionIsResetEvenBeforeTheGuestSendsAByte()
    {
        string pcap = Path.Combine(_settingsDirectory, "guest.pcap");
        int dead = Ports.Free();
        WriteSettings($$"""
            "containersProxy": { "mode": "manual", "transparentPorts": "8080", "embeddedPac":
                "function FindProxyForURL(url, host) { if (shExpMatch(host, '*.blocked.test')) return 'PROXY reject.docker.internal:80'; if (host == 'web.other.test') return 'PROXY 127.0.0.1:{{dead}}'; return 'DIRECT'; }" }
            """);
        var guest = Own(GuestSession.Start("--settings", SettingsPath, "--log-level", "info", "--pcap", pcap));
        // Each from its own source port, to find it in the capture. The name comes from the
        // guest's own lookup, since the connection carries no bytes to read one from.
        const string ReadOne = """
            import socket, sys
            s = socket.create_connection((sys.argv[1], 8080), timeout=20, source_address=("", int(sys.argv[2])))
            try:
                print("data" if s.recv(1) else "end")
            except ConnectionResetError:
                print("reset")
            """;
        string blocked = RunPython(guest, ReadOne, "a.blocked.test 40001");
        string failed = RunPython(guest, ReadOne, "web.other.test 40002");
        Assert.True(blocked == "reset\n", blocked + guest.Stderr);
        Assert.True(failed == "reset\n", failed + guest.Stderr);
        // What PAC sends DIRECT still goes through, and ends with an ordinary FIN.
        Assert.Equal("port 8080 host web.test\n", Curl(guest, "--local-port 40003 http://web.test:8080/echo"));
        Assert.Contains("blocked", guest.Stderr);

        // The capture is complete once Usernet has stopped.
        guest.Terminate();
        string Flags(int port) => ProcessRunner.Check(ProcessRunner.Run("tcpdump", "-n", "-r", pcap, $"tcp and src port 8080 and dst port {port}"));
        foreach (int port in new[] { 40001, 40002 })
        {
            string packets = Flags(port);
            Assert.Contains("Flags [S.]", packets);
            Assert.Contains("Flags [R", packets);
            Assert.DoesNotContain("Flags [F", packets);
        }
        Assert.Contains("Flags [F", Flags(40003));
    }

    /// <summary>A tunnel whose far end is reset halfway is reset towards the guest too, not ended as if complete.</summary>
    [RootFact]
    public void ATunnelCutByAResetIsResetTowardsTheGuest()
    {
        var guest = StartGuest("");
        var cut = guest.Shell($"curl -sS --max-time 20 -p {ViaProxy} -o /dev/null http://web.test:{ScriptedOrigin.Port}/cut 2>&1; echo exit $?", TimeSpan.FromSeconds(40)).Stdout;
        // 56 is curl's "failure receiving": here a reset; a FIN would have been 18, a partial file.
        Assert.Contains("Connection reset by peer", cut);
        Assert.Contains("exit 56", cut);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
    }
}
