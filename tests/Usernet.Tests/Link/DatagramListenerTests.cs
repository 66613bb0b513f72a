using System.Net.Sockets;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Tests.Support;

namespace Usernet.Tests.Link;

/// <summary>One frame per datagram over real unix datagram sockets, the loop run by the test thread.</summary>
public sealed class DatagramListenerTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-dgram-");
    private readonly EventLoop _loop = new();
    private readonly RecordingReceiver _receiver = new();
    private readonly List<FrameLink> _peers = new();
    private readonly DatagramListener _listener;
    private readonly string _path;

    public DatagramListenerTests()
    {
        _path = Path.Combine(_directory.FullName, "usernet.sock");
        _listener = DatagramListener.Bind(LinkEndpoint.Parse($"unixgram:{_path}", datagram: true), _peers.Add);
        _listener.Start(_loop, _receiver);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _loop.Dispose();
        _directory.Delete(recursive: true);
    }

    private Socket Vm(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(_directory.FullName, name)));
        socket.Connect(new UnixDomainSocketEndPoint(_path));
        socket.ReceiveTimeout = 2000;
        return socket;
    }

    private void Deliver(int frames)
    {
        for (int i = 0; i < 50 && _receiver.Frames.Count < frames; i++)
        {
            _loop.RunOnce(20);
        }
        Assert.Equal(frames, _receiver.Frames.Count);
    }

    [Fact]
    public void EachSenderIsItsOwnLinkAndGetsItsOwnFrames()
    {
        using var first = Vm("first.sock");
        using var second = Vm("second.sock");
        first.Send([1, 1, 1]);
        first.Send([1, 2, 2]);
        second.Send([2, 1, 1]);
        first.Send([1, 3, 3]);
        Deliver(4);

        // Three frames from one address make one link, not three.
        Assert.Equal(2, _peers.Count);
        Assert.Equal(4, _peers[0].Counters.FramesIn + _peers[1].Counters.FramesIn);
        Assert.Equal(3, _peers[0].Counters.FramesIn);

        _peers[1].Send([9, 9]);
        _peers[0].Send([8, 8]);
        byte[] buffer = new byte[16];
        Assert.Equal([9, 9], buffer[..second.Receive(buffer)]);
        Assert.Equal([8, 8], buffer[..first.Receive(buffer)]);
    }

    [Fact]
    public void APeerWhoseSocketIsGoneIsClosedAfterTheBatchAndSentNothingMore()
    {
        var vm = Vm("gone.sock");
        vm.Send([1, 1, 1]);
        Deliver(1);
        var peer = Assert.Single(_peers);
        vm.Dispose();

        // Sent while the switch may be going through its links: the link stays open until the
        // loop's posted work runs.
        peer.Send([7, 7]);
        Assert.False(peer.IsClosed);
        Assert.Equal(1, peer.Counters.DroppedOut);
        _loop.RunOnce(0);

        Assert.True(peer.IsClosed);
        Assert.Equal(1, _receiver.Closes);
        Assert.StartsWith("the peer is gone", _receiver.ClosedReason);
        peer.Send([8, 8]);
        Assert.Equal(1, peer.Counters.DroppedOut);
    }

    [Fact]
    public void ClosingTheListenerClosesEveryPeerFirst()
    {
        using var first = Vm("first.sock");
        using var second = Vm("second.sock");
        first.Send([1]);
        second.Send([2]);
        Deliver(2);

        _listener.Dispose();

        Assert.Equal(2, _receiver.Closes);
        Assert.All(_peers, peer => Assert.True(peer.IsClosed));
        // No frame goes out on the closed socket's number, which the kernel may give to another file.
        _peers[0].Send([9]);
        Assert.Equal(0, _peers[0].Counters.FramesOut + _peers[0].Counters.DroppedOut);
    }
}
