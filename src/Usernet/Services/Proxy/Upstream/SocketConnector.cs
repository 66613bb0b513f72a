using System.Net;
using System.Net.Sockets;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>Opens the proxy's host TCP connections: each address in turn, each within its share of the connect timeout.</summary>
internal static class SocketConnector
{
    /// <summary>
    /// A connection to one of <paramref name="addresses"/>; else a 502 naming <paramref name="what"/>
    /// and each address's failure, which the guest hears without the addresses when
    /// <paramref name="guestWhat"/> stands for <paramref name="what"/> (an upstream proxy's).
    /// </summary>
    public static async Task<Socket> ConnectAsync(IReadOnlyList<IPAddress> addresses, int port, string what, TimeSpan timeout, CancellationToken cancel, string? guestWhat = null)
    {
        var errors = new List<string>();
        var reasons = new List<string>();
        var share = timeout / Math.Max(1, addresses.Count);
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            deadline.CancelAfter(share);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
                return socket;
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                reasons.Add($"timed out after {share.TotalSeconds:0.#} s");
                errors.Add($"{Format(address, port)}: {reasons[^1]}");
            }
            catch (SocketException e)
            {
                reasons.Add(Describe(e.SocketErrorCode));
                errors.Add($"{Format(address, port)}: {reasons[^1]}");
            }
            socket.Dispose();
        }
        throw new ProxyException(502, $"cannot connect to {what}: {string.Join("; ", errors)}",
            guestWhat is null ? null : $"cannot connect to {guestWhat}: {string.Join("; ", reasons.Distinct())}");
    }

    private static string Format(IPAddress address, int port) => new IPEndPoint(address, port).ToString();

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.TimedOut => "timed out",
        SocketError.ConnectionReset => "connection reset",
        _ => error.ToString(),
    };
}
