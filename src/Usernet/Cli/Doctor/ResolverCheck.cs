using System.Net;
using System.Net.Sockets;
using Usernet.Config;
using Usernet.Platform;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Cli.Doctor;

/// <summary>
/// The host's resolver as Usernet's DNS server would forward to it: <c>dns.servers</c> if set,
/// else the first nameserver of <c>dns.resolvConf</c> (/etc/resolv.conf). Exactly one query is
/// sent, for the root zone's SOA (which every recursive resolver answers), with a short timeout.
/// </summary>
internal static class ResolverCheck
{
    private const string Name = "resolver";
    private const string Enables = "guests' DNS for names beyond Usernet's own and the host's getaddrinfo (forwarded queries)";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public static DoctorCheck Run(DnsSettings dns)
    {
        IpEndpoint server;
        string source;
        if (dns.Servers.Count > 0)
        {
            server = dns.Servers[0];
            source = "dns.servers";
        }
        else
        {
            var conf = ResolvConf.Read(dns.ResolvConf);
            if (conf.Nameservers.Count == 0)
            {
                return DoctorCheck.Warn(Name, $"{dns.ResolvConf} names no nameserver", Enables,
                    $"add a line 'nameserver ADDRESS' to {dns.ResolvConf}, or set dns.servers in settings.json");
            }
            server = new IpEndpoint(conf.Nameservers[0], 53);
            source = dns.ResolvConf;
        }
        string fix = source == "dns.servers"
            ? "set dns.servers in settings.json to a nameserver that answers"
            : $"put a nameserver that answers first in {source}, or set dns.servers in settings.json";
        var (rcode, elapsed, error) = QueryRootSoa(server);
        string where = $"{server} (first of {source})";
        if (error is not null)
        {
            return DoctorCheck.Warn(Name, $"{where}: {error}", Enables, fix) with { Elapsed = elapsed };
        }
        return rcode == DnsResponseCode.NoError
            ? DoctorCheck.Ok(Name, $"{where} answers ({elapsed.TotalMilliseconds:0.0} ms)", Enables) with { Elapsed = elapsed }
            : DoctorCheck.Warn(Name, $"{where} answers the root zone's SOA with {RcodeName(rcode)}: forwarded queries may fail", Enables, fix) with { Elapsed = elapsed };
    }

    /// <summary>One UDP query; the rcode of the matching answer, or why there is none.</summary>
    private static (int Rcode, TimeSpan Elapsed, string? Error) QueryRootSoa(IpEndpoint server)
    {
        byte[] root = [0];
        ushort id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        byte[] query = DnsForwarder.BuildQuery(id, root, DnsType.Soa, edns: false);
        var address = server.Address.ToIPAddress();
        long start = Environment.TickCount64;
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(new IPEndPoint(address, server.Port));
            socket.Send(query);
            byte[] buffer = new byte[4096];
            var deadline = start + (long)Timeout.TotalMilliseconds;
            while (true)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return (0, Since(start), $"no answer within {Timeout.TotalSeconds:0} s");
                }
                socket.ReceiveTimeout = (int)left;
                int n;
                try
                {
                    n = socket.Receive(buffer);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                    continue;
                }
                if (DnsForwarder.Matches(buffer.AsSpan(0, n), id, root, DnsType.Soa))
                {
                    return (new DnsMessage(buffer).ResponseCode, Since(start), null);
                }
            }
        }
        catch (SocketException e)
        {
            return (0, Since(start), e.Message);
        }
    }

    private static string RcodeName(int rcode) => rcode switch
    {
        DnsResponseCode.FormatError => "FORMERR",
        DnsResponseCode.ServerFailure => "SERVFAIL",
        DnsResponseCode.NameError => "NXDOMAIN",
        DnsResponseCode.NotImplemented => "NOTIMP",
        DnsResponseCode.Refused => "REFUSED",
        _ => $"rcode {rcode}",
    };

    private static TimeSpan Since(long start) => TimeSpan.FromMilliseconds(Environment.TickCount64 - start);
}
