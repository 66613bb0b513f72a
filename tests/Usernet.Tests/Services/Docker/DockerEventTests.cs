using System.Text;
using Usernet.Services.Docker;

namespace Usernet.Tests.Services.Docker;

public sealed class DockerEventTests
{
    [Fact]
    public void EventsThatMayChangeAContainersPortsNameIt()
    {
        Assert.Equal("bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff", DockerClient.ContainerOf(DockerCaptures.StartEvent));
        Assert.Equal("503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec", DockerClient.ContainerOf(DockerCaptures.DieEvent));
        Assert.NotNull(DockerClient.ContainerOf(DockerCaptures.RenameEvent));
        Assert.NotNull(DockerClient.ContainerOf(DockerCaptures.DestroyEvent));
    }

    [Theory]
    [InlineData(DockerCaptures.CreateEvent)]
    [InlineData("")]
    [InlineData("{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"abc\"}}")]
    [InlineData("{\"Type\":\"container\",\"Action\":\"health_status: healthy\",\"Actor\":{\"ID\":\"abc\"}}")]
    [InlineData("{\"Type\":\"container\",\"Action\":\"start\"}")]
    [InlineData("not json")]
    [InlineData("[\"start\"]")]
    public void OtherLinesAreLeftAlone(string line) => Assert.Null(DockerClient.ContainerOf(line));

    [Fact]
    public void TheStreamIsCutIntoLinesWhateverTheWritesAre()
    {
        var lines = new List<string>();
        var sink = new LineSink(lines.Add);
        byte[] bytes = Encoding.UTF8.GetBytes(DockerCaptures.StartEvent + "\n" + DockerCaptures.DieEvent + "\r\nend");
        foreach (var piece in bytes.Chunk(7))
        {
            sink.Write(piece);
        }
        Assert.Equal([DockerCaptures.StartEvent, DockerCaptures.DieEvent], lines);
    }

    [Fact]
    public void ALineOverTheLimitIsAnError()
    {
        var sink = new LineSink(_ => { }, maxLine: 16);
        Assert.Throws<IOException>(() => sink.Write(new byte[17]));
    }
}
