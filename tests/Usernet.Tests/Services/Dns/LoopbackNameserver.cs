using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

/// <summary>A nameserver on loopback for the forwarder to ask: UDP, and TCP on the same port.</summary>
internal sealed class LoopbackNameserver : IDisposable
{
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="udpAnswer">The answer to a UDP query, or null for none.</param>
    /// <param name="tcpAnswer">The answer to a TCP query, or null for no TCP service.</param>
    public LoopbackNameserver(Func<byte[], byte[]?> udpAnswer, Func<byte[], byte[]>? tcpAnswer = null)
    {
        // A TCP port first, then UDP on the same number (free more often than the other way round).
        while (true)
        {
            _tcp = new TcpListener(IPAddress.Loopback, 0);
            _tcp.Start();
            int port = ((IPEndPoint)_tcp.LocalEndpoint).Port;
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                _udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                Endpoint = new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), (ushort)port);
                break;
            }
            catch (SocketException)
            {
                _udp.Dispose();
                _tcp.Stop();
            }
        }
        _ = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                    byte[] query = buffer[..received.ReceivedBytes];
                    Queries++;
                    if (udpAnswer(query) is { } answer)
                    {
                        await _udp.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        if (tcpAnswer is not null)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var client = await _tcp.AcceptSocketAsync(_stop.Token);
                        byte[] prefix = new byte[2];
                        await DnsForwarder.ReceiveExactlyAsync(client, prefix, _stop.Token);
                        byte[] query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                        await DnsForwarder.ReceiveExactlyAsync(client, query, _stop.Token);
                        TcpQueries++;
                        byte[] answer = tcpAnswer(query);
                        byte[] framed = new byte[2 + answer.Length];
                        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)answer.Length);
                        answer.CopyTo(framed, 2);
                        await client.SendAsync(framed, SocketFlags.None);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            });
        }
    }

    public IpEndpoint Endpoint { get; }

    public int Queries { get; private set; }

    public int TcpQueries { get; private set; }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Stop();
    }
}
