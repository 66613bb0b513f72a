using Usernet.Services.Docker;

namespace Usernet.Tests.Services.Docker;

public sealed class HostDaemonsTests
{
    [Theory]
    [InlineData("/var/lib/usernet/docker", "dockerd", "--data-root", "/var/lib/usernet/docker", "-H", "unix:///x")]
    [InlineData("/srv/d", "/usr/sbin/dockerd", "--data-root=/srv/d")]
    [InlineData("/old", "dockerd", "-g", "/old")]
    [InlineData("/older", "dockerd", "--graph=/older")]
    [InlineData("/var/lib/docker", "/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock")]
    public void TheDataRootComesFromTheCommandLine(string expected, params string[] arguments) =>
        Assert.Equal(expected, HostDaemons.DataRootOf(arguments));

    [Fact]
    public void OrFromTheConfigurationFileItNames()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "{\"data-root\": \"/mnt/docker\", \"debug\": true}");
            Assert.Equal("/mnt/docker", HostDaemons.DataRootOf(["dockerd", "--config-file", file]));
            Assert.Equal("/mnt/docker", HostDaemons.DataRootOf(["dockerd", $"--config-file={file}"]));
            File.WriteAllText(file, "not json");
            Assert.Equal("/var/lib/docker", HostDaemons.DataRootOf(["dockerd", "--config-file", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
