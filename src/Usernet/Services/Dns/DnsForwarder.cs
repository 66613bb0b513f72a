using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// Asks upstream nameservers, from ordinary host sockets (so the host's routes and VPN decide
/// where they go): UDP first, TCP when the answer is truncated (RFC 7766 §5), the next server
/// when one does not answer in time or fails. Each query has a random ID from a socket of its
/// own on a random port, and only a response with that ID and the same question counts
/// (RFC 5452 §9.1). Runs on the thread pool.
/// </summary>
internal sealed class DnsForwarder
{
    /// <summary>
    /// The UDP payload size offered upstream: the value of DNS flag day 2020 (RFC 9715), which
    /// avoids fragments on the real network. Larger answers come truncated and then over TCP.
    /// </summary>
    public const ushort UdpPayloadSize = 1232;

    /// <summary>The least time one server gets before the next is tried.</summary>
    public static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(250);

    private readonly TimeSpan _timeout;
    private long _mismatched;

    /// <param name="timeout">The whole time a lookup may take, shared among its servers.</param>
    public DnsForwarder(TimeSpan timeout) => _timeout = timeout;

    /// <summary>Responses that did not match their query (wrong ID or question) and were ignored.</summary>
    public long Mismatched => Interlocked.Read(ref _mismatched);

    /// <summary>
    /// Asks <paramref name="servers"/> in order for <paramref name="name"/> (lower-case wire
    /// format) of <paramref name="type"/>. Returns the first real answer; a SERVFAIL, REFUSED or
    /// NOTIMP only when no server did better; null when none answered.
    /// </summary>
    public async Task<byte[]?> ForwardAsync(byte[] name, ushort type, IReadOnlyList<IpEndpoint> servers, CancellationToken cancel)
    {
        if (servers.Count == 0)
        {
            return null;
        }
        var attempt = TimeSpan.FromTicks(Math.Max(MinAttempt.Ticks, _timeout.Ticks / servers.Count));
        byte[]? fallback = null;
        foreach (var server in servers)
        {
            if (cancel.IsCancellationRequested)
            {
                break;
            }
            var response = await ExchangeAsync(server, name, type, attempt, cancel).ConfigureAwait(false);
            if (response is null)
            {
                continue;
            }
            if (new DnsMessage(response).ResponseCode is DnsResponseCode.ServerFailure or DnsResponseCode.Refused or DnsResponseCode.NotImplemented)
            {
                fallback = response;
                continue;
            }
            return response;
        }
        return fallback;
    }

    /// <summary>One server: UDP, then TCP if truncated, then without EDNS if it did not understand it.</summary>
    private async Task<byte[]?> ExchangeAsync(IpEndpoint server, byte[] name, ushort type, TimeSpan attempt, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(attempt);
        var endpoint = new IPEndPoint(server.Address.ToIPAddress(), server.Port);
        try
        {
            bool edns = true;
            while (true)
            {
                var response = await UdpAsync(endpoint, name, type, edns, timeout.Token).ConfigureAwait(false);
                if (new DnsMessage(response).Truncated)
                {
                    return await TcpAsync(endpoint, name, type, edns, timeout.Token).ConfigureAwait(false);
                }
                if (edns && new DnsMessage(response).ResponseCode == DnsResponseCode.FormatError)
                {
                    // A server from before EDNS answers FORMERR to the OPT record (RFC 6891 §7).
                    edns = false;
                    continue;
                }
                return response;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            return null;
        }
    }

    private async Task<byte[]> UdpAsync(IPEndPoint server, byte[] name, ushort type, bool edns, CancellationToken cancel)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        // Connected: the kernel takes only datagrams from the server, and reports its port
        // unreachable at once instead of leaving us to wait.
        socket.Connect(server);
        ushort id = (ushort)RandomNumberGenerator.GetInt32(65536);
        await socket.SendAsync(BuildQuery(id, name, type, edns), SocketFlags.None, cancel).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(65536);
        try
        {
            while (true)
            {
                int received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel).ConfigureAwait(false);
                if (Matches(buffer.AsSpan(0, received), id, name, type))
                {
                    return buffer.AsSpan(0, received).ToArray();
                }
                Interlocked.Increment(ref _mismatched);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<byte[]?> TcpAsync(IPEndPoint server, byte[] name, ushort type, bool edns, CancellationToken cancel)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancel).ConfigureAwait(false);
        ushort id = (ushort)RandomNumberGenerator.GetInt32(65536);
        byte[] query = BuildQuery(id, name, type, edns);
        byte[] framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, cancel).ConfigureAwait(false);
        byte[] prefix = new byte[2];
        if (!await ReceiveExactlyAsync(socket, prefix, cancel).ConfigureAwait(false))
        {
            return null;
        }
        byte[] response = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        if (!await ReceiveExactlyAsync(socket, response, cancel).ConfigureAwait(false) || !Matches(response, id, name, type))
        {
            Interlocked.Increment(ref _mismatched);
            return null;
        }
        return response;
    }

    /// <summary>Fills <paramref name="buffer"/>; false when the peer closes first.</summary>
    public static async Task<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancel)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int received = await socket.ReceiveAsync(buffer[filled..], SocketFlags.None, cancel).ConfigureAwait(false);
            if (received == 0)
            {
                return false;
            }
            filled += received;
        }
        return true;
    }

    /// <summary>A recursive query for one question, with an OPT record unless <paramref name="edns"/> is false.</summary>
    public static byte[] BuildQuery(ushort id, ReadOnlySpan<byte> name, ushort type, bool edns)
    {
        byte[] query = new byte[DnsMessage.HeaderLength + name.Length + 4 + (edns ? DnsRecord.OptLength : 0)];
        DnsMessage.WriteHeader(query, id, DnsMessage.FlagRecursionDesired, 1, 0, 0, (ushort)(edns ? 1 : 0));
        name.CopyTo(query.AsSpan(DnsMessage.HeaderLength));
        int offset = DnsMessage.HeaderLength + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset + 2), DnsClass.Internet);
        if (edns)
        {
            DnsRecord.WriteOpt(query, offset + 4, UdpPayloadSize, 0, false);
        }
        return query;
    }

    /// <summary>
    /// Whether <paramref name="response"/> answers our query: a response with its ID and
    /// exactly its question, uncompressed, so that the records after it are where
    /// <see cref="DnsAnswerBuilder.FromUpstream"/> expects them.
    /// </summary>
    public static bool Matches(ReadOnlySpan<byte> response, ushort id, ReadOnlySpan<byte> name, ushort type)
    {
        if (!DnsMessage.TryParse(response, out var header) || header.Id != id || !header.IsResponse || header.QuestionCount != 1)
        {
            return false;
        }
        Span<byte> echoed = stackalloc byte[DnsName.MaxLength];
        return DnsRecord.TryReadQuestion(response, DnsMessage.HeaderLength, echoed, out int length, out ushort echoedType, out ushort echoedClass, out int end)
            && end == DnsMessage.HeaderLength + name.Length + 4
            && echoed[..length].SequenceEqual(name)
            && echoedType == type
            && echoedClass == DnsClass.Internet;
    }
}
