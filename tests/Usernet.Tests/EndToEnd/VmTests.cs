using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// `usernet serve` with real VMs: QEMU boots a Linux kernel and a busybox initramfs
/// (tests/vm), which takes its lease from Usernet and pings the gateway and the host, over
/// each way QEMU attaches a NIC to a socket. Each VM boots in about 3 s under software emulation.
/// </summary>
public sealed class VmTests : IClassFixture<VmImage>, IDisposable
{
    private const string Gateway = "192.168.65.1";
    private const string Host = "192.168.65.254";
    private const string FirstGuest = "192.168.65.3";
    private const string SecondGuest = "192.168.65.4";

    /// <summary>Hard limit from starting QEMU to the VM's last result; a boot takes about 3 s.</summary>
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PowerOffTimeout = TimeSpan.FromSeconds(15);

    private readonly VmImage _image;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-vm-");
    private readonly List<IDisposable> _started = new();

    public VmTests(VmImage image)
    {
        _image = image;
    }

    [RootFact]
    public void AVmOnAUnixStreamSocketGetsALeaseAndPingsTheGatewayAndTheHost()
    {
        string socket = PathFor("usernet.sock");
        var serve = BootOneVm(["--listen-qemu", $"unix:{socket}"], StreamNetdev(socket), $"qemu unix:{socket} #1");
        AssertLinkClosed(serve);
    }

    [RootFact]
    public void AVmOnTheTcpSocketNetdevGetsALeaseAndPingsTheGatewayAndTheHost()
    {
        int port = Ports.Free();
        var serve = BootOneVm(["--listen-qemu", $"tcp:127.0.0.1:{port}"], $"socket,id=net0,connect=127.0.0.1:{port}",
            $"qemu tcp:127.0.0.1:{port} #1 from 127.0.0.1:");
        AssertLinkClosed(serve);
    }

    [RootFact]
    public void AVmOnAUnixDatagramSocketGetsALeaseAndPingsTheGatewayAndTheHost()
    {
        string socket = PathFor("usernet-dgram.sock");
        string local = PathFor("qemu-dgram.sock");
        // A datagram peer never says goodbye: its link stays listed after the VM is gone.
        BootOneVm(["--listen-dgram", $"unixgram:{socket}"], DgramNetdev(local, socket), $"dgram unixgram:{socket} from unix:{local}");
    }

    /// <summary>The largest MTU Usernet offers: a full-size frame is a 64 KiB stream record or datagram.</summary>
    [RootTheory]
    [InlineData("stream")]
    [InlineData("dgram")]
    public void AVmCarriesFullSizeFramesOfTheLargestMtu(string kind)
    {
        const int Mtu = 65520;
        string socket = PathFor("usernet.sock");
        var serve = kind == "stream"
            ? StartServe("--mtu", $"{Mtu}", "--listen-qemu", $"unix:{socket}")
            : StartServe("--mtu", $"{Mtu}", "--listen-dgram", $"unixgram:{socket}");
        string netdev = kind == "stream" ? StreamNetdev(socket) : DgramNetdev(PathFor("qemu-dgram.sock"), socket);
        var vm = StartVm(netdev, Mac(1), PingOptions(Mtu, Gateway, Host));
        AssertLeaseAndPings(vm, FirstGuest, Mtu, Gateway, Host);
        var link = Assert.Single(serve.Stats().GetProperty("links").EnumerateArray());
        // Two replies from each target filled the MTU: 4 frames of Mtu + 14 bytes.
        Assert.True(link.GetProperty("bytesOut").GetInt64() >= 4 * (Mtu + 14), link.ToString());
        Assert.Equal(0, vm.PowerOff(PowerOffTimeout));
    }

    /// <summary>The switch forwards between guests, also between a stream link and a datagram link.</summary>
    [RootTheory]
    [InlineData("stream", "stream")]
    [InlineData("stream", "dgram")]
    public void TwoVmsOnOneServeGetTheirOwnAddressesAndPingEachOther(string firstKind, string secondKind)
    {
        string stream = PathFor("usernet.sock");
        string dgram = PathFor("usernet-dgram.sock");
        var serve = StartServe("--listen-qemu", $"unix:{stream}", "--listen-dgram", $"unixgram:{dgram}");
        string Netdev(string kind, int n) => kind == "stream" ? StreamNetdev(stream) : DgramNetdev(PathFor($"qemu-dgram-{n}.sock"), dgram);
        // Each pings the other's address (skipping its own) until that VM has booted too.
        string[] options = [.. PingOptions(1500, Gateway, Host, FirstGuest, SecondGuest), "vmtest.wait=30"];
        var first = StartVm(Netdev(firstKind, 1), Mac(1), options);
        var second = StartVm(Netdev(secondKind, 2), Mac(2), options);
        string firstAddress = AssertLease(first, 1500);
        string secondAddress = AssertLease(second, 1500);
        Assert.Equal([FirstGuest, SecondGuest], new[] { firstAddress, secondAddress }.Order());
        AssertPings(first, 1500, Gateway, Host, secondAddress);
        AssertPings(second, 1500, Gateway, Host, firstAddress);

        var stats = serve.Stats();
        Assert.Equal(2, stats.GetProperty("links").GetArrayLength());
        Assert.True(stats.GetProperty("switch").GetProperty("betweenGuests").GetInt64() >= 12, stats.ToString());
        Assert.Equal(2, stats.GetProperty("dhcp").GetProperty("leases").GetInt32());
        Assert.Equal(0, first.PowerOff(PowerOffTimeout));
        Assert.Equal(0, second.PowerOff(PowerOffTimeout));
    }

    /// <summary>
    /// Boots one VM on a fresh serve, checks its lease, its pings and its link's counters (the
    /// link's description starts with <paramref name="link"/>), and powers it off.
    /// </summary>
    private ServeInstance BootOneVm(string[] serveOptions, string netdev, string link)
    {
        var serve = StartServe(serveOptions);
        var vm = StartVm(netdev, Mac(1), PingOptions(1500, Gateway, Host));
        AssertLeaseAndPings(vm, FirstGuest, 1500, Gateway, Host);
        AssertLinkCounted(serve, link, vm);
        Assert.Equal(0, vm.PowerOff(PowerOffTimeout));
        return serve;
    }

    private ServeInstance StartServe(params string[] options)
    {
        var serve = ServeInstance.Start(options);
        _started.Add(serve);
        return serve;
    }

    private QemuVm StartVm(string netdev, string mac, string[] options)
    {
        var vm = QemuVm.Start(_image, netdev, mac, options);
        _started.Add(vm);
        return vm;
    }

    /// <summary>QEMU 7.2's -netdev stream, connecting to a unix socket.</summary>
    private static string StreamNetdev(string socket) => $"stream,id=net0,server=off,addr.type=unix,addr.path={socket}";

    /// <summary>QEMU 7.2's -netdev dgram between its own unix socket and Usernet's.</summary>
    private static string DgramNetdev(string local, string remote) =>
        $"dgram,id=net0,local.type=unix,local.path={local},remote.type=unix,remote.path={remote}";

    private string PathFor(string name) => Path.Combine(_directory.FullName, name);

    private static string Mac(int n) => $"52:54:00:12:34:{n:x2}";

    private static string[] PingOptions(int mtu, params string[] targets) => [$"vmtest.mtu={mtu}", $"vmtest.ping={string.Join(',', targets)}"];

    /// <summary>A port that was free a moment ago; serve fails clearly in the unlikely case it is taken now.</summary>
    private static void AssertLeaseAndPings(QemuVm vm, string address, int mtu, params string[] targets)
    {
        Assert.Equal(address, AssertLease(vm, mtu));
        AssertPings(vm, mtu, targets);
    }

    /// <summary>Waits for the VM to finish and returns the address it leased.</summary>
    private static string AssertLease(QemuVm vm, int mtu)
    {
        Assert.True(vm.WaitUntilDone(BootTimeout), $"the VM did not finish within {BootTimeout.TotalSeconds} s\n{vm}");
        Assert.True(!vm.Results.Any(r => r.EndsWith(" failed", StringComparison.Ordinal) || r == "no eth0"), vm.ToString());
        string? lease = vm.Results.FirstOrDefault(r => r.StartsWith("dhcp ok ", StringComparison.Ordinal));
        Assert.True(lease is not null, vm.ToString());
        string[] words = lease.Split(' ');
        Assert.Equal($"dhcp ok {words[2]} mtu {mtu} router {Gateway}", lease);
        return words[2];
    }

    /// <summary>Each target answered a small ping, one that fills the MTU, and one sent in fragments.</summary>
    private static void AssertPings(QemuVm vm, int mtu, params string[] targets)
    {
        foreach (string target in targets)
        {
            Assert.True(vm.Results.Contains($"ping {target} ok"), vm.ToString());
            Assert.True(vm.Results.Contains($"ping {target} size {mtu - 28} ok"), vm.ToString());
            if (2 * mtu - 28 <= 65507)
            {
                Assert.True(vm.Results.Contains($"ping {target} size {2 * mtu - 28} ok"), vm.ToString());
            }
        }
    }

    /// <summary>The VM's link is listed under its description and counted the VM's traffic both ways.</summary>
    private static void AssertLinkCounted(ServeInstance serve, string description, QemuVm vm)
    {
        var stats = serve.Stats();
        var link = Assert.Single(stats.GetProperty("links").EnumerateArray());
        string context = $"{stats}\n{vm}\n--- usernet serve\n{serve.Stderr}";
        Assert.True(link.GetProperty("link").GetString()!.StartsWith(description, StringComparison.Ordinal), context);
        // DHCP, ARP and 3 sizes x 2 pings x 2 targets at least, some of them in fragments.
        Assert.True(link.GetProperty("framesIn").GetInt64() >= 16, context);
        Assert.True(link.GetProperty("framesOut").GetInt64() >= 16, context);
        Assert.Equal(0, link.GetProperty("errorsIn").GetInt64());
        Assert.Equal(0, link.GetProperty("droppedOut").GetInt64());
        Assert.True(stats.GetProperty("dhcp").GetProperty("acks").GetInt64() >= 1, context);
        Assert.True(stats.GetProperty("stack").GetProperty("echoReplies").GetInt64() >= 12, context);
    }

    /// <summary>A stream link ends when QEMU closes its end: serve notices and lists it no more.</summary>
    private static void AssertLinkClosed(ServeInstance serve)
    {
        JsonElement stats = default;
        bool closed = Wait.Until(() =>
        {
            stats = serve.Stats();
            return stats.GetProperty("links").GetArrayLength() == 0;
        });
        Assert.True(closed, stats.ToString());
        Assert.Equal(1, stats.GetProperty("switch").GetProperty("linksClosed").GetInt64());
    }

    public void Dispose()
    {
        // VMs first, then serve, whether the test passed or not; then the sockets' directory.
        for (int i = _started.Count - 1; i >= 0; i--)
        {
            _started[i].Dispose();
        }
        _directory.Delete(recursive: true);
    }
}
