using System.Text.RegularExpressions;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The README's first command, as a new user types it: in a fresh clone (so the binary is built
/// from nothing), on the PATH a fresh machine has. Its one outside query goes to a test dnsmasq
/// (a private mount namespace with a test /etc/resolv.conf), as in <see cref="DoctorTests"/>.
/// </summary>
public sealed partial class ReadmeTests
{
    private const string FreshPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The first line of the README's first sh block.</summary>
    internal static string FirstCommand(string readme) =>
        FirstShellBlock().Match(readme) is { Success: true } match
            ? match.Groups[1].Value.Split('\n')[0].TrimEnd()
            : throw new InvalidOperationException("the README has no ```sh block");

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FirstShellBlock();

    [RootFact]
    public void TheFirstCommandWorksInAFreshCloneOnAFreshPath()
    {
        string repository = TestEnvironment.RepositoryRoot;
        string command = FirstCommand(File.ReadAllText(Path.Combine(repository, "README.md")));
        string directory = Directory.CreateTempSubdirectory("usernet-readme-").FullName;
        try
        {
            string clone = Path.Combine(directory, "usernet");
            ProcessRunner.Check(ProcessRunner.Run("git", ["clone", "--quiet", "--no-hardlinks", repository, clone], TimeSpan.FromSeconds(120)));
            string settings = Path.Combine(directory, "config");
            using var dnsmasq = Dnsmasq.Start();
            using var resolver = new IsolatedResolver("", dnsmasq.Address);
            var environment = new Dictionary<string, string>
            {
                ["PATH"] = FreshPath,
                ["XDG_CONFIG_HOME"] = settings,
                // The network rule: the restore takes the packages from the machine's NuGet cache, and
                // must not ask nuget.org for vulnerability data (with the test's resolver it could not).
                ["NuGetAudit"] = "false",
                // The build's compiler and MSBuild servers would outlive the test.
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
                ["UseSharedCompilation"] = "false",
            };
            // The build takes a minute on an idle machine, several on a busy one.
            var result = ProcessRunner.Run(resolver.Wrapper[0], [.. resolver.Wrapper[1..], "sh", "-c", $"cd '{clone}' && {command}"],
                TimeSpan.FromMinutes(12), environment: environment);
            Assert.True(result.ExitCode == 0, $"{command}\n{result}");
            Assert.Contains("building the native binary", result.Stderr);
            Assert.True(File.Exists(Path.Combine(clone, ".build", "bin", "usernet")), result.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void TheFirstCommandIsTheFirstLineOfTheFirstShellBlock()
    {
        Assert.Equal("./a b    # c", FirstCommand("# T\n\n```\nnot sh\n```\n\n```sh\n./a b    # c\nsecond\n```\n```sh\nthird\n```\n"));
    }
}
