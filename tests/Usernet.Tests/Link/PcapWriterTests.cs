using System.Buffers.Binary;
using Usernet.Link;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Link;

/// <summary>
/// The capture file: the user's alone (0600), never written through a symbolic link, a hard
/// link or into another user's file, and at its size limit capturing stops with whole records
/// written and the rest counted.
/// </summary>
public sealed class PcapWriterTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-pcap-");

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void TheFileIsTheUsersAlone()
    {
        string path = PathOf("new.pcap");
        using (var writer = PcapWriter.Create(path))
        {
            writer.Write(new byte[60]);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(24 + 16 + 60, new FileInfo(path).Length);
    }

    [Fact]
    public void AnExistingFileOfTheUsersIsEmptiedAndClosedToOthers()
    {
        string path = PathOf("old.pcap");
        File.WriteAllBytes(path, new byte[5000]);
        File.SetUnixFileMode(path, (UnixFileMode)0x1A4 /* 0644 */);
        using (PcapWriter.Create(path))
        {
        }
        Assert.Equal(24, new FileInfo(path).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void ASymbolicLinkIsNotFollowed()
    {
        string target = PathOf("target");
        File.WriteAllText(target, "keep me");
        string link = PathOf("link.pcap");
        File.CreateSymbolicLink(link, target);
        var e = Assert.Throws<IOException>(() => PcapWriter.Create(link));
        Assert.Contains("symbolic link", e.Message);
        Assert.Equal("keep me", File.ReadAllText(target));
    }

    [Fact]
    public void AFileWithAnotherHardLinkIsNotWritten()
    {
        string target = PathOf("target");
        File.WriteAllText(target, "keep me");
        string link = PathOf("hard.pcap");
        Assert.Equal(0, Link(target, link));
        var e = Assert.Throws<IOException>(() => PcapWriter.Create(link));
        Assert.Contains("hard links", e.Message);
        Assert.Equal("keep me", File.ReadAllText(target));
    }

    [Fact]
    public void AnotherUsersFileIsNotWritten()
    {
        if (Libc.GetEUid() != 0)
        {
            Assert.Skip("giving a file to another user needs root");
        }
        string path = PathOf("theirs.pcap");
        File.WriteAllText(path, "theirs");
        Assert.Equal(0, Chown(path, 65533, 65533));
        var e = Assert.Throws<IOException>(() => PcapWriter.Create(path));
        Assert.Contains("belongs to uid 65533", e.Message);
        Assert.Equal("theirs", File.ReadAllText(path));
    }

    [Fact]
    public void AtItsLimitCapturingStopsWithWholeRecordsAndTheRestCounted()
    {
        string path = PathOf("limited.pcap");
        using (var writer = PcapWriter.Create(path, limit: 1024))
        {
            for (int i = 0; i < 20; i++)
            {
                writer.Write(new byte[100]);
            }
            // 24 + 8 x 116 = 952: the ninth record would pass 1024.
            Assert.Equal(8, writer.Frames);
            Assert.Equal(12, writer.NotCaptured);
            Assert.Contains("size limit of 1024 bytes", writer.StoppedBecause);
            writer.Flush();
        }
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(24 + 8 * 116, file.Length);
        int records = 0;
        for (int offset = 24; offset < file.Length; records++)
        {
            offset += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8));
        }
        Assert.Equal(8, records);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int uid, int gid);
}
