using Usernet.Control;
using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Control;

/// <summary>
/// The control socket directory is trusted only when it is a real directory of this user,
/// closed to everyone else; and instance names stay file names inside it.
/// </summary>
public sealed class InstanceDirectoryTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-rundir-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string Make(string name, UnixFileMode mode)
    {
        string path = Path.Combine(_directory.FullName, name);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void APrivateDirectoryOfTheUserIsAccepted() =>
        Assert.Null(InstanceDirectory.Problem(Make("ok", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)));

    [Fact]
    public void ADirectoryOthersMayUseIsRefused()
    {
        string path = Make("open", (UnixFileMode)0x1ED /* 0755 */);
        Assert.Equal("its mode is 0755, not 0700", InstanceDirectory.Problem(path));
    }

    [Fact]
    public void ASymbolicLinkIsRefusedEvenToAGoodDirectory()
    {
        string target = Make("target", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string link = Path.Combine(_directory.FullName, "link");
        Directory.CreateSymbolicLink(link, target);
        Assert.Equal("it is a symbolic link", InstanceDirectory.Problem(link));
    }

    [Fact]
    public void AFileIsRefused()
    {
        string path = Path.Combine(_directory.FullName, "file");
        File.WriteAllText(path, "");
        Assert.Equal("it is not a directory", InstanceDirectory.Problem(path));
    }

    [Fact]
    public void AnotherUsersDirectoryIsRefused()
    {
        if (Libc.GetEUid() != 0)
        {
            Assert.Skip("giving a directory to another user needs root");
        }
        string path = Make("theirs", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.Equal(0, Chown(path, 65533, 65533));
        Assert.Equal("it belongs to uid 65533, not to uid 0", InstanceDirectory.Problem(path));
    }

    [Theory]
    [InlineData("run-1234")]
    [InlineData("vm.test_1")]
    [InlineData("-x")]
    [InlineData("..a")]
    public void SafeNamesAreValid(string name) => Assert.Null(InstanceDirectory.NameProblem(name));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("é")]
    [InlineData("x\n")]
    public void OtherNamesAreNot(string name)
    {
        Assert.NotNull(InstanceDirectory.NameProblem(name));
        Assert.Throws<ArgumentException>(() => InstanceDirectory.SocketPath(name));
    }

    [Fact]
    public void NamesAreBounded()
    {
        Assert.Null(InstanceDirectory.NameProblem(new string('a', InstanceDirectory.MaxNameLength)));
        Assert.NotNull(InstanceDirectory.NameProblem(new string('a', InstanceDirectory.MaxNameLength + 1)));
    }

    [Fact]
    public void ASocketMadeOwnerOnlyIsClosedToOthersFromItsBind()
    {
        string path = Path.Combine(_directory.FullName, "s.sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        OwnerOnlyFiles.Create(() => socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path)));
        Assert.True(FileStatus.TryOfPath(path, out var status, out _));
        Assert.False(status.OthersMayUse, $"mode {status.Octal}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int uid, int gid);
}
