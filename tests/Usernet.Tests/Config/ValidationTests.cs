using Usernet.Config;
using Usernet.Wire;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class ValidationTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string Error(params SettingOverride[] flags) => Assert.Single(_files.Errors(flags));

    [Theory]
    [InlineData("192.168.65.0/33", "\"192.168.65.0/33\" is not a valid IPv4 CIDR")]
    [InlineData("192.168.65.0", "\"192.168.65.0\" is not a valid IPv4 CIDR")]
    [InlineData("192.168.65.0/", "\"192.168.65.0/\" is not a valid IPv4 CIDR")]
    [InlineData("fd00::/64", "\"fd00::/64\" is not a valid IPv4 CIDR")]
    [InlineData("192.168.65.0/31", "\"192.168.65.0/31\" has a prefix length out of range (8..30)")]
    [InlineData("10.0.0.0/7", "\"10.0.0.0/7\" has a prefix length out of range (8..30)")]
    [InlineData("192.168.65.1/24", "\"192.168.65.1/24\" has host bits set; the network is 192.168.65.0/24")]
    public void VpnkitCidrMustBeAnIpv4NetworkOf8To30Bits(string value, string problem)
    {
        _files.User($$"""{"vpnkitCIDR": "{{value}}"}""");
        Assert.Equal($"{_files.UserPath}: vpnkitCIDR: {problem}", Error());
    }

    [Fact]
    public void TheGatewayMustDifferFromTheHost()
    {
        Assert.Equal("--set network.hostIP=192.168.65.1: network.hostIP: 192.168.65.1 is the same address as network.gatewayIP",
            Error(Set("network.hostIP", "192.168.65.1")));
    }

    [Fact]
    public void TheFirstGuestMustDifferFromGatewayAndHost()
    {
        Assert.Equal("--set network.firstGuestIP=192.168.65.254: network.firstGuestIP: 192.168.65.254 is the same address as network.hostIP",
            Error(Set("network.firstGuestIP", "192.168.65.254")));
    }

    [Theory]
    [InlineData("network.gatewayIP", "10.0.0.1", "10.0.0.1 is outside vpnkitCIDR 192.168.65.0/24")]
    [InlineData("network.hostIP", "192.168.65.0", "192.168.65.0 is the network address of 192.168.65.0/24")]
    [InlineData("network.firstGuestIP", "192.168.65.255", "192.168.65.255 is the broadcast address of 192.168.65.0/24")]
    [InlineData("network.gatewayIP", "192.168.65", "\"192.168.65\" is not a valid IPv4 address")]
    public void Ipv4AddressesMustBeUsableInTheSubnet(string key, string value, string problem)
    {
        Assert.Equal($"--set {key}={value}: {key}: {problem}", Error(Set(key, value)));
    }

    [Fact]
    public void ADerivedAddressThatCannotFitIsReportedAgainstItsDefault()
    {
        // A /30 has room for the gateway and the host but not a guest at .3, the broadcast address.
        Assert.Equal("default: network.firstGuestIP: 10.0.0.3 is the broadcast address of 10.0.0.0/30",
            Error(Set("vpnkitCIDR", "10.0.0.0/30"), Set("network.hostIP", "10.0.0.2")));
    }

    [Fact]
    public void AnInvalidSubnetDoesNotCascadeIntoItsAddresses()
    {
        _files.User("""{"vpnkitCIDR": "10.0.0.0/33", "network": {"gatewayIP": "10.0.0.1"}}""");
        Assert.Equal($"{_files.UserPath}: vpnkitCIDR: \"10.0.0.0/33\" is not a valid IPv4 CIDR", Error());
    }

    [Theory]
    [InlineData("network.gatewayIPv6", "fd00::1", "fd00::1 is outside network.ipv6Prefix fdc4:f303:9324::/64")]
    [InlineData("network.hostIPv6", "fdc4:f303:9324::", "fdc4:f303:9324:: is the subnet-router anycast address of fdc4:f303:9324::/64 (RFC 4291 §2.6.1)")]
    [InlineData("network.hostIPv6", "fdc4:f303:9324::1", "fdc4:f303:9324::1 is the same address as network.gatewayIPv6")]
    [InlineData("network.firstGuestIPv6", "fdc4:f303:9324::254", "fdc4:f303:9324::254 is the same address as network.hostIPv6")]
    [InlineData("network.gatewayIPv6", "192.168.65.1", "\"192.168.65.1\" is not a valid IPv6 address")]
    [InlineData("network.ipv6Prefix", "fd00::/80", "\"fd00::/80\" has a prefix length out of range (48..64)")]
    [InlineData("network.ipv6Prefix", "fd00::1/64", "\"fd00::1/64\" has host bits set; the network is fd00::/64")]
    public void Ipv6AddressesMustBeUsableInThePrefix(string key, string value, string problem)
    {
        Assert.Equal($"--set {key}={value}: {key}: {problem}", Error(Set(key, value)));
    }

    [Theory]
    [InlineData("575", "575 is out of range (576..65520)")]
    [InlineData("65521", "65521 is out of range (576..65520)")]
    [InlineData("1400.5", "1400.5 is not a whole number")]
    [InlineData("big", "\"big\" is not \"auto\" or a whole number")]
    public void TheMtuIsAutoOrInRange(string value, string problem)
    {
        Assert.Equal($"--mtu: network.mtu: {problem}", Error(new SettingOverride("network.mtu", value, "--mtu")));
    }

    [Fact]
    public void TheMtuMustCarryIpv6WhenIpv6IsOn()
    {
        Assert.Equal("--mtu: network.mtu: 1000 is below 1280, the least IPv6 allows (RFC 8200 §5), and defaultNetworkingMode dual-stack enables IPv6",
            Error(new SettingOverride("network.mtu", "1000", "--mtu")));
        Assert.Contains("ipv6only enables IPv6", Error(Set("network.mtu", "1000"), Set("defaultNetworkingMode", "ipv6only")));
        Assert.Equal(1000, _files.Settings(Set("network.mtu", "1000"), Set("defaultNetworkingMode", "ipv4only")).Network.Mtu);
        Assert.Equal(1280, _files.Settings(Set("network.mtu", "1280")).Network.Mtu);
    }

    [Fact]
    public void TheSubnetMustNotOverlapAHostNetwork()
    {
        _files.HostNetworks = [Host("lo", "127.0.0.0/8"), Host("wlan0", "192.168.64.0/20")];
        Assert.Equal("default: vpnkitCIDR: 192.168.65.0/24 overlaps 192.168.64.0/20 on host interface wlan0, a network this host is directly connected to; choose another vpnkitCIDR",
            Error());
        _files.User("""{"vpnkitCIDR": "10.0.0.0/8"}""");
        Assert.Equal(Usernet.Wire.Ipv4Cidr.Parse("10.0.0.0/8"), _files.Settings().Network.Subnet);
    }

    [Fact]
    public void ASubnetInsideAHostNetworkOverlapsItToo()
    {
        _files.HostNetworks = [Host("eth0", "10.1.2.0/24")];
        Assert.Contains("overlaps 10.1.2.0/24 on host interface eth0",
            Error(new SettingOverride("vpnkitCIDR", "10.0.0.0/8", "--subnet")));
    }

    [Theory]
    [InlineData("ftp://proxy:21", "the scheme is not one of http, https, socks5, socks5h")]
    [InlineData("proxy.corp:3128", "it needs a scheme: http://, https://, socks5:// or socks5h://")]
    [InlineData("http://proxy.corp:99999", "port 99999 is not a number in 1..65535")]
    [InlineData("http://proxy.corp:3128/path", "a proxy URL has no path, query or fragment")]
    [InlineData("http://", "the host is missing")]
    [InlineData("socks5://[fd00::1:3128", "an opening '[' has no closing ']'")]
    [InlineData("socks5://fd00::1]:3128", "a closing ']' has no opening '['")]
    [InlineData("http://proxy.corp:+3128", "port +3128 is not a number in 1..65535")]
    [InlineData("http://proxy.corp:", "the port after ':' is missing")]
    [InlineData("http://[proxy.corp]:3128", "proxy.corp in brackets is not an IPv6 address")]
    public void AProxyUrlMustBeValid(string value, string problem)
    {
        Assert.Equal($"--set proxy.http={value}: proxy.http: \"{value}\" is not a valid proxy URL: {problem}", Error(Set("proxy.http", value)));
    }

    [Theory]
    [InlineData("80,abc", "\"abc\" is not a port (1..65535) or a range of ports such as 8000-8100")]
    [InlineData("0", "\"0\" is not a port (1..65535) or a range of ports such as 8000-8100")]
    [InlineData("70000", "\"70000\" is not a port (1..65535) or a range of ports such as 8000-8100")]
    [InlineData("90-80", "range 90-80 ends before it starts")]
    [InlineData("80-", "\"80-\" is not a port (1..65535) or a range of ports such as 8000-8100")]
    public void TransparentPortsMustBePortsOrRanges(string value, string problem)
    {
        Assert.Equal($"--set containersProxy.transparentPorts={value}: containersProxy.transparentPorts: {problem}",
            Error(Set("containersProxy.transparentPorts", value)));
    }

    [Fact]
    public void TransparentPortsAcceptAllOrAList()
    {
        Assert.Equal(PortSet.All, _files.Settings(Set("containersProxy.transparentPorts", "*")).ContainersProxy.TransparentPorts);
        var ports = _files.Settings(Set("containersProxy.transparentPorts", "443, 80,8000-8100")).ContainersProxy.TransparentPorts;
        Assert.Equal("80,443,8000-8100", ports.ToString());
        Assert.True(ports.Contains(8050));
        Assert.False(ports.Contains(8101));
    }

    [Theory]
    [InlineData("tcp.maxConnections", "0", "0 is out of range (1..1000000)")]
    [InlineData("tcp.connectTimeoutSeconds", "0.05", "0.05 is out of range (0.1..600)")]
    [InlineData("tcp.keepaliveIdleSeconds", "86401", "86401 is out of range (1..86400)")]
    [InlineData("tcp.keepaliveIntervalSeconds", "0", "0 is out of range (1..86400)")]
    [InlineData("tcp.keepaliveCount", "101", "101 is out of range (1..100)")]
    [InlineData("udp.maxFlows", "1000001", "1000001 is out of range (1..1000000)")]
    [InlineData("udp.idleTimeoutSeconds", "NaN", "NaN is not a number")]
    [InlineData("fragments.maxDatagrams", "10001", "10001 is out of range (1..10000)")]
    [InlineData("fragments.timeoutSeconds", "121", "121 is out of range (0.1..120)")]
    [InlineData("dhcp.leaseSeconds", "9", "9 is out of range (10..31536000)")]
    [InlineData("dhcp.maxLeases", "65535", "65535 is out of range (1..65534)")]
    [InlineData("dns.cacheSize", "-1", "-1 is out of range (0..1000000)")]
    [InlineData("dns.timeoutSeconds", "61", "61 is out of range (0.1..60)")]
    [InlineData("dns.timeoutSeconds", "two", "\"two\" is not a number")]
    [InlineData("dns.resolvConf", "resolv.conf", "\"resolv.conf\" is not an absolute path")]
    [InlineData("dns.servers", "1.1.1.1,dns.google", "\"dns.google\" is not a DNS server address (IP, IP:port or [IPv6]:port): dns.google is not an IP address")]
    [InlineData("dns.servers", "1.1.1.1:0", "\"1.1.1.1:0\" is not a DNS server address (IP, IP:port or [IPv6]:port): port 0 is not a number in 1..65535")]
    [InlineData("dns.servers", "1.1.1.1:+53", "\"1.1.1.1:+53\" is not a DNS server address (IP, IP:port or [IPv6]:port): port +53 is not a number in 1..65535")]
    [InlineData("dns.servers", "[::1", "\"[::1\" is not a DNS server address (IP, IP:port or [IPv6]:port): an opening '[' has no closing ']'")]
    [InlineData("dns.servers", "[1.1.1.1]:53", "\"[1.1.1.1]:53\" is not a DNS server address (IP, IP:port or [IPv6]:port): 1.1.1.1 in brackets is not an IPv6 address")]
    [InlineData("dns.searchDomains", "corp..example", "\"corp..example\" is not a valid domain name: it has an empty label")]
    [InlineData("dns.searchDomains", "corp.example,bücher.example", "\"bücher.example\" is not a valid domain name: it has a character that is not ASCII or not printable (an international name is written as xn--)")]
    [InlineData("dns.searchDomains", "corp_1.example,a$b.example", "\"a$b.example\" is not a valid domain name: '$' is not a letter, digit, '-' or '_'")]
    [InlineData("dns.searchDomains", "-corp.example", "\"-corp.example\" is not a valid domain name: label -corp starts or ends with '-'")]
    [InlineData("dns.searchDomains", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\" is not a valid domain name: label aaaaaaaaaa… is longer than 63 characters")]
    [InlineData("dns.records", "db.corp=10.0.0.300", "db.corp: \"10.0.0.300\" is not a valid IP address")]
    [InlineData("defaultNetworkingMode", "dualstack", "\"dualstack\" is not one of dual-stack, ipv4only, ipv6only, auto")]
    [InlineData("dnsInhibition", "all", "\"all\" is not one of auto, ipv4, ipv6, none")]
    [InlineData("portBindingBehavior", "local", "\"local\" is not one of default-port-binding, default-local-port-binding, local-only-port-binding")]
    [InlineData("proxy.mode", "auto", "\"auto\" is not one of system, manual")]
    [InlineData("proxy.pac", "pac.js", "\"pac.js\" is not an http://, https:// or file:// URL or an absolute path")]
    [InlineData("ports.preserveClientAddress", "yes", "\"yes\" is not true or false")]
    public void EveryValueIsChecked(string key, string value, string problem)
    {
        Assert.Equal($"--set {key}={value}: {key}: {problem}", Error(Set(key, value)));
    }

    [Fact]
    public void ASearchDomainLongerThanTheWireTakesIsRefused()
    {
        // 253 characters are 255 bytes on the wire, the most a name may have (RFC 1035 §3.1).
        string longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Equal([longest], _files.Settings(Set("dns.searchDomains", longest)).Dns.SearchDomains);
        Assert.Equal(DnsName.MaxLength, DnsSearchList.Encode([longest]).Length);
        string tooLong = "c" + longest;
        Assert.Equal($"--set dns.searchDomains={tooLong}: dns.searchDomains: \"{tooLong}\" is not a valid domain name: it is longer than 253 characters",
            Error(Set("dns.searchDomains", tooLong)));
    }

    [Fact]
    public void PublishSpecsMustNotBeEmpty()
    {
        _files.User("""{"ports": {"publish": ["8080:80", " "]}}""");
        Assert.Equal($"{_files.UserPath}: ports.publish: item 2: \" \" is empty", Error());
        _files.User("""{"ports": {"publish": ["8080:80", "127.0.0.1:53:53/udp"]}}""");
        Assert.Equal(["8080:80", "127.0.0.1:53:53/udp"], _files.Settings().Ports.Publish);
    }

    [Fact]
    public void DhcpLeasesAreCappedByTheSubnet()
    {
        // In a /29 the guests get .3, .4 and .5: .1 is the gateway, .6 the host, .7 the broadcast.
        Assert.Equal(3, _files.Settings(Set("vpnkitCIDR", "10.0.0.0/29")).Dhcp.MaxLeases);
        Assert.Equal(250, _files.Settings().Dhcp.MaxLeases);
        Assert.Equal(1000, _files.Settings(Set("vpnkitCIDR", "10.0.0.0/16"), Set("dhcp.maxLeases", "1000")).Dhcp.MaxLeases);
    }

    [Fact]
    public void PacLocationsMayBeUrlsOrPaths()
    {
        var settings = _files.Settings(Set("proxy.pac", "http://wpad.corp/wpad.dat"), Set("containersProxy.pac", "/etc/proxy.pac"));
        Assert.Equal("http://wpad.corp/wpad.dat", settings.Proxy.Pac);
        Assert.Equal("/etc/proxy.pac", settings.ContainersProxy.Pac);
    }

    [Theory]
    [InlineData("172.17.0.0/16=192.168.65.3;fd00:d0c::/64=fdc4:f303:9324::3")]
    [InlineData("10.0.0.0/8=192.168.65.200")]
    public void GuestRoutesNameOneGuestOfTheirFamily(string routes)
    {
        var settings = _files.Settings(Set("network.guestRoutes", routes));
        Assert.NotEmpty(settings.Network.GuestRoutes);
    }

    [Theory]
    [InlineData("172.17.0.1/16=192.168.65.3", "\"172.17.0.1/16\" has host bits set; the network is 172.17.0.0/16")]
    [InlineData("172.17.0.0/16=fdc4:f303:9324::3", "172.17.0.0/16 is IPv4, and fdc4:f303:9324::3 is not")]
    [InlineData("fd00:d0c::/64=192.168.65.3", "fd00:d0c::/64 is IPv6, and 192.168.65.3 is not")]
    [InlineData("172.17.0.0/16=192.168.65.3,192.168.65.4", "172.17.0.0/16 must lie behind exactly one guest, not 2 addresses")]
    [InlineData("192.168.0.0/16=192.168.65.3", "192.168.0.0/16 overlaps vpnkitCIDR 192.168.65.0/24, where the guests are already")]
    [InlineData("172.17.0.0/16=10.0.0.3", "172.17.0.0/16: the guest 10.0.0.3 is outside vpnkitCIDR 192.168.65.0/24")]
    [InlineData("172.17.0.0/16=192.168.65.254", "172.17.0.0/16: the guest 192.168.65.254 is Usernet's own address (the gateway or the host), not a guest's")]
    [InlineData("not-a-subnet=192.168.65.3", "\"not-a-subnet\" is not an IPv4 or IPv6 subnet in CIDR form, such as 172.17.0.0/16")]
    public void BadGuestRoutesAreRefusedSayingWhy(string routes, string problem) =>
        Assert.Equal($"--set network.guestRoutes={routes}: network.guestRoutes: {problem}", Error(Set("network.guestRoutes", routes)));

    [Theory]
    [InlineData("socks.listen=0.0.0.0:1080", "socks.listen: 0.0.0.0:1080 is not a loopback address: listening there lets other hosts into the guests' networks, and needs socks.allowNonLoopback=true")]
    [InlineData("socks.listen=127.0.0.1", "socks.listen: \"127.0.0.1\" is not an address and port such as 127.0.0.1:1080 or [::1]:1080: ")]
    [InlineData("socks.password=pw", "socks.password: is set, but socks.user is not: set both, or neither")]
    [InlineData("metrics.listen=0.0.0.0:9100", "metrics.listen: 0.0.0.0:9100 is not a loopback address: listening there shows every host that reaches it what the guests do, and needs metrics.allowNonLoopback=true")]
    [InlineData("metrics.listen=localhost:9100", "metrics.listen: \"localhost:9100\" is not an address and port such as 127.0.0.1:1080 or [::1]:1080: ")]
    public void BadSocksAndMetricsSettingsAreRefusedSayingWhy(string assignment, string problem)
    {
        Assert.True(SettingOverride.TryParseAssignment(assignment, out var flag));
        Assert.StartsWith($"{flag.Flag}: {problem}", Error(flag));
    }

    [Fact]
    public void FlowStartLinesAreOffByDefaultAndABadValueNamesTheField()
    {
        Assert.False(_files.Settings().Log.FlowStarts);
        Assert.True(_files.Settings(Set("log.flowStarts", "true")).Log.FlowStarts);
        Assert.StartsWith("--set log.flowStarts=maybe: log.flowStarts: ", Error(Set("log.flowStarts", "maybe")));
    }

    [Fact]
    public void MetricsListenIsOffByDefaultAndLoopbackUnlessAllowed()
    {
        Assert.Null(_files.Settings().Metrics.Listen);
        Assert.Equal(9100, _files.Settings(Set("metrics.listen", "127.0.0.1:9100")).Metrics.Listen!.Value.Port);
        Assert.Equal(9100, _files.Settings(Set("metrics.listen", "[::]:9100"), Set("metrics.allowNonLoopback", "true")).Metrics.Listen!.Value.Port);
    }

    [Fact]
    public void SocksListensWhereItIsToldWithTheExplicitSetting()
    {
        var settings = _files.Settings(Set("socks.listen", "[::1]:1080"));
        Assert.Equal(new Usernet.Wire.IpEndpoint(Usernet.Wire.IpAddress.Parse("::1"), 1080), settings.Socks.Listen);
        Assert.Null(_files.Settings().Socks.Listen);
        Assert.Equal(1080, _files.Settings(Set("socks.listen", "0.0.0.0:1080"), Set("socks.allowNonLoopback", "true")).Socks.Listen!.Value.Port);
    }
}
