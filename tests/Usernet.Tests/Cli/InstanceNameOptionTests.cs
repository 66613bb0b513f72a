using Usernet.Cli;

namespace Usernet.Tests.Cli;

public sealed class InstanceNameOptionTests
{
    private static CommandLine Line(params string[] args) => new CommandLine().Option("--instance", "NAME", "").Parse(args);

    [Fact]
    public void AValidNameIsTaken() => Assert.Equal("vm-1.test", InstanceNameOption.Read(Line("--instance", "vm-1.test")));

    [Fact]
    public void NoNameIsNull() => Assert.Null(InstanceNameOption.Read(Line()));

    [Theory]
    [InlineData("../../etc/x")]
    [InlineData("..")]
    [InlineData("a/b")]
    public void APathIsAUsageErrorNamingTheOption(string name)
    {
        var e = Assert.Throws<UsageException>(() => InstanceNameOption.Read(Line("--instance", name)));
        Assert.StartsWith("--instance:", e.Message);
    }
}
