using Usernet.Netns;

namespace Usernet.Tests.Netns;

public sealed class CommandPackagesTests
{
    [Theory]
    [InlineData("ping", "iputils-ping")]
    [InlineData("curl", "curl")]
    [InlineData("dig", "bind9-dnsutils")]
    [InlineData("ip", "iproute2")]
    [InlineData("nc", "netcat-openbsd")]
    [InlineData("ssh", "openssh-client")]
    [InlineData("/usr/bin/ping", "iputils-ping")]
    public void TheUsualToolsNameTheirPackage(string command, string package)
    {
        Assert.Equal(package, CommandPackages.For(command));
        Assert.Equal($" (it is in the package {package}: apt-get install {package})", CommandPackages.Hint(command));
    }

    [Theory]
    [InlineData("no-such-command-here")]
    [InlineData("pingx")]
    [InlineData("")]
    public void AnyOtherCommandGetsNoHint(string command)
    {
        Assert.Null(CommandPackages.For(command));
        Assert.Equal("", CommandPackages.Hint(command));
    }
}
