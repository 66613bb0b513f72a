using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>The names Usernet's DNS server answers itself: host.docker.internal and the like, dns.records and <c>usernet dns add</c>.</summary>
internal sealed class LocalRecordNames(DnsLocalRecords records) : IGuestNameSource
{
    public void Lookup(string name, List<IpAddress> addresses)
    {
        foreach (var record in records.List())
        {
            if (record.Name == name)
            {
                addresses.Add(record.Address);
            }
        }
    }
}
