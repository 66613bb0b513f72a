using System.Net;
using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Services.Docker;

namespace Usernet.Tests.Services.Docker;

/// <summary>
/// Which listening sockets are a host-network container's, on a cgroup tree laid out as dockerd
/// lays out the guest's (files in a temporary directory, holding this test's own pid) and a real
/// listening socket of this process.
/// </summary>
public sealed class HostNetworkListenersTests : IDisposable
{
    private const string Id = "64b118c75dcefd7d084f1b754e2459aaa8cb7e0acab01ac340691da94def8db3";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-hostnet-");
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public HostNetworkListenersTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    private string Cgroups => Path.Combine(_directory.FullName, "cgroup");

    private string DataRoot => Path.Combine(_directory.FullName, "data");

    private ulong ListenerInode()
    {
        int port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        return ProcNetTable.Read("/proc/net", ProtocolType.Tcp).Single(s => s.Local.Port == port && s.IsListening).Inode;
    }

    /// <summary>A cgroup at <paramref name="path"/> (below the guest's) holding this process.</summary>
    private void Holding(string path)
    {
        string directory = Path.Combine(Cgroups, path);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "cgroup.procs"), $"{Environment.ProcessId}\n");
    }

    private void Named(string name)
    {
        string directory = Path.Combine(DataRoot, "containers", Id);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.v2.json"), $$"""{"ID":"{{Id}}","Name":"/{{name}}","Config":{"Hostname":"x"} }""");
    }

    private Dictionary<ulong, string> Owners() => new HostNetworkListeners(Cgroups, Environment.ProcessId, DataRoot).Owners();

    [Theory]
    [InlineData("docker/" + Id)]
    [InlineData("system.slice/docker-" + Id + ".scope")]
    public void ASocketOfAProcessInAContainersCgroupIsThatContainers(string cgroup)
    {
        Holding(cgroup);
        Named("web");
        Assert.Equal("web", Owners()[ListenerInode()]);
    }

    [Fact]
    public void ASocketOfTheDaemonsCgroupIsNoOnes()
    {
        // dockerd, containerd and docker-proxy: in the guest's init cgroup.
        Holding("init");
        Holding("docker");
        Assert.Empty(Owners());
    }

    [Fact]
    public void AContainerWithoutItsConfigurationIsNamedByItsShortId()
    {
        Holding("docker/" + Id);
        Assert.Equal(Id[..12], Owners()[ListenerInode()]);
    }

    [Theory]
    [InlineData(Id, Id)]
    [InlineData("docker-" + Id + ".scope", Id)]
    [InlineData("init", null)]
    [InlineData("docker", null)]
    [InlineData("docker-" + Id, null)]
    [InlineData("64B118C75DCEFD7D084F1B754E2459AAA8CB7E0ACAB01AC340691DA94DEF8DB3", null)]
    public void ACgroupNamesAContainerByItsIdOnly(string name, string? id) => Assert.Equal(id, HostNetworkListeners.ContainerId(name));

    public void Dispose()
    {
        _listener.Dispose();
        _directory.Delete(recursive: true);
    }
}
