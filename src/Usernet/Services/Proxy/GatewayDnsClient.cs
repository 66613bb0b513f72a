using System.Net;
using System.Net.Sockets;
using Usernet.Platform;
using Usernet.Services.Dns;
using Usernet.Services.Proxy.Upstream;
using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>
/// Resolves the proxy's destinations through Usernet's own DNS server, on the loop thread, so
/// that the proxy sees what a guest would: Usernet's names, dns.records and dns.routes, the
/// host's resolver or the configured nameservers, and the cache. Usernet's host address maps
/// to the host's loopback later, as for the guest's own connections.
/// </summary>
internal sealed class GatewayDnsClient(EventLoop loop, DnsResolver resolver, bool ipv4, bool ipv6) : IProxyNameResolver
{
    private static readonly IpEndpoint Self = new(Ipv4Address.Loopback, 0);

    /// <summary>Where an answer known at once is written: used on the loop thread only, and read before the next.</summary>
    private readonly byte[] _response = new byte[DnsResponseWriter.TcpLimit];

    /// <summary>
    /// The lookups under way, by name and type. Concurrent requests for one name share one
    /// query: the resolver lets only so many waiters join a lookup (MaxWaitersPerLookup) and
    /// drops the rest, which 200 tunnels opened at once to one host would otherwise turn into
    /// SERVFAIL and 502s. Guarded by itself.
    /// </summary>
    private readonly Dictionary<(string Name, ushort Type), Task<(byte, IPAddress[])>> _inFlight = new();

    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancel)
    {
        string name = host.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(name, out var literal))
        {
            return [literal];
        }
        if (!Config.DomainName.IsValid(name))
        {
            throw new ProxyException(502, $"DNS lookup of {host} failed: it is not a valid host name");
        }
        var v4 = ipv4 ? SharedQuery(name, DnsType.A).WaitAsync(cancel) : Task.FromResult((DnsResponseCode.NoError, Array.Empty<IPAddress>()));
        var v6 = ipv6 ? SharedQuery(name, DnsType.Aaaa).WaitAsync(cancel) : Task.FromResult((DnsResponseCode.NoError, Array.Empty<IPAddress>()));
        var (code4, addresses4) = await v4.ConfigureAwait(false);
        var (code6, addresses6) = await v6.ConfigureAwait(false);
        IPAddress[] all = [.. addresses4, .. addresses6];
        if (all.Length > 0)
        {
            return all;
        }
        byte code = code4 != DnsResponseCode.NoError ? code4 : code6;
        string reason = code switch
        {
            DnsResponseCode.NameError => "no such name (NXDOMAIN)",
            DnsResponseCode.ServerFailure => "the nameservers failed or did not answer (SERVFAIL)",
            DnsResponseCode.Refused => "the nameservers refused (REFUSED)",
            DnsResponseCode.NoError => "the name has no address (NODATA)",
            _ => $"response code {code}",
        };
        throw new ProxyException(502, $"DNS lookup of {host} failed: {reason}");
    }

    /// <summary>
    /// The lookup of <paramref name="name"/> already under way, or a new one. It is never
    /// cancelled by a caller (another may still wait for it); the resolver ends every lookup by
    /// its timeout, so it always completes.
    /// </summary>
    private Task<(byte, IPAddress[])> SharedQuery(string name, ushort type)
    {
        var key = (name.ToLowerInvariant(), type);
        lock (_inFlight)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return running;
            }
            var started = Query(key.Item1, type);
            _inFlight[key] = started;
            started.ContinueWith(_ =>
            {
                lock (_inFlight)
                {
                    _inFlight.Remove(key);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return started;
        }
    }

    private Task<(byte, IPAddress[])> Query(string name, ushort type)
    {
        byte[] query = DnsForwarder.BuildQuery((ushort)Random.Shared.Next(), DnsName.Encode(name), type, edns: false);
        var answer = new Answer();
        loop.Post(now =>
        {
            int length = resolver.Resolve(query, new DnsReplyTo(Self, Self, answer), _response, now);
            if (length > 0)
            {
                answer.Send(_response.AsSpan(0, length));
            }
            else if (length == DnsResolver.Dropped)
            {
                answer.Result.TrySetResult((DnsResponseCode.ServerFailure, []));
            }
        });
        return answer.Result.Task;
    }

    /// <summary>Receives the response, at once or when the lookup finishes.</summary>
    private sealed class Answer : IDnsStream
    {
        public TaskCompletionSource<(byte, IPAddress[])> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Send(ReadOnlySpan<byte> response)
        {
            if (!DnsAddressAnswer.TryRead(response, out _, out byte code, out var addresses))
            {
                Result.TrySetResult((DnsResponseCode.ServerFailure, []));
                return;
            }
            Result.TrySetResult((code, addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).ToArray()));
        }
    }
}
