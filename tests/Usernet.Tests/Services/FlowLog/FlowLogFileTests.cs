using Usernet.Services.FlowLog;

namespace Usernet.Tests.Services.FlowLog;

/// <summary>log.flows on disk: private to its user, appended to, rotated by size, never through a link.</summary>
public sealed class FlowLogFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-flowfile-");

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task PastItsSizeTheFileMovesToDotOneAndStartsAgain()
    {
        string path = PathOf("flows.log");
        string line = new('x', 99);
        var file = new FlowLogFile(path, maxBytes: 250);
        for (int i = 0; i < 5; i++)
        {
            file.Write(line + i);
        }
        await file.DisposeAsync();

        // 101 bytes a line: two fit in 250, the third starts a new file; the fifth another.
        Assert.Equal([line + 4], File.ReadAllLines(path));
        Assert.Equal([line + 2, line + 3], File.ReadAllLines(path + ".1"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(0, file.Dropped);
        Assert.Equal(2, file.Rotations);
    }

    [Fact]
    public async Task AnExistingFileIsAppendedTo()
    {
        string path = PathOf("flows.log");
        File.WriteAllText(path, "before\n");
        var file = new FlowLogFile(path, maxBytes: 1 << 20);
        file.Write("after");
        await file.DisposeAsync();
        Assert.Equal(["before", "after"], File.ReadAllLines(path));
    }

    [Fact]
    public void ASymbolicLinkIsRefused()
    {
        string target = PathOf("elsewhere");
        File.WriteAllText(target, "");
        string link = PathOf("flows.log");
        File.CreateSymbolicLink(link, target);
        var error = Assert.Throws<IOException>(() => new FlowLogFile(link, 1 << 20));
        Assert.Contains("symbolic link", error.Message);
    }
}
