using Usernet.Config;
using Usernet.Services.Dns;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class DnsResolverTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000_000);

    private static Instant At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    private static HostLookupResult Found(params string[] addresses) =>
        new(HostLookupStatus.Found, addresses.Select(IpAddress.Parse).ToList());

    [Fact]
    public void HostDockerInternalIsTheHostIpWithTheQueryEchoed()
    {
        var dns = new DnsResolverHarness();
        var response = dns.Ask(DnsTestMessages.Query("Host.Docker.Internal", DnsType.A, id: 0xBEEF), T0)!;
        Assert.Equal(0xBEEF, response.Id);
        Assert.Equal(DnsResponseCode.NoError, response.ResponseCode);
        Assert.True(response.Authoritative);
        Assert.Equal(DnsMessage.FlagRecursionDesired | DnsMessage.FlagRecursionAvailable,
            response.Flags & (DnsMessage.FlagRecursionDesired | DnsMessage.FlagRecursionAvailable));
        // The question comes back as asked, case and all (DNS 0x20 clients check it).
        Assert.Equal(DnsTestMessages.Query("Host.Docker.Internal", DnsType.A)[12..], response.Question);
        var answer = Assert.Single(response.Answers);
        Assert.Equal("host.docker.internal", answer.Name);
        Assert.Equal(IpAddress.Parse("192.168.65.254"), answer.Address);
        Assert.Equal(DnsLocalRecords.Ttl, answer.Ttl);
        Assert.Equal(1, dns.Counters.AnsweredLocal);
    }

    [Theory]
    [InlineData("host.docker.internal", DnsType.Aaaa, "fdc4:f303:9324::254")]
    [InlineData("host.containers.internal", DnsType.A, "192.168.65.254")]
    [InlineData("gateway.docker.internal", DnsType.A, "192.168.65.1")]
    [InlineData("gateway.containers.internal", DnsType.Aaaa, "fdc4:f303:9324::1")]
    [InlineData("http.docker.internal", DnsType.A, "192.168.65.1")]
    public void EveryBuiltInNameHasItsAddresses(string name, ushort type, string address)
    {
        var dns = new DnsResolverHarness(DnsInhibition.None);
        Assert.Equal(IpAddress.Parse(address), Assert.Single(dns.AskNow(name, type, T0).Answers).Address);
    }

    [Fact]
    public void DigsCapturedQueryGetsAnOptRecordBack()
    {
        var dns = new DnsResolverHarness();
        var response = dns.Ask(DnsCaptures.DigA, T0)!;
        Assert.Equal(0x17cb, response.Id);
        Assert.Single(response.Answers);
        var opt = Assert.Single(response.Additional);
        Assert.Equal(DnsType.Opt, opt.Type);
        Assert.Equal(DnsResponseWriter.UdpPayloadSize, opt.Class);
    }

    [Fact]
    public void AnUnknownNameInUsernetsZonesIsNxDomainAndTheApexHasNoData()
    {
        var dns = new DnsResolverHarness();
        Assert.Equal(DnsResponseCode.NameError, dns.AskNow("nosuch.docker.internal", DnsType.A, T0).ResponseCode);
        Assert.Equal(DnsResponseCode.NameError, dns.AskNow("a.b.containers.internal", DnsType.Aaaa, T0).ResponseCode);
        var apex = dns.AskNow("docker.internal", DnsType.A, T0);
        Assert.Equal(DnsResponseCode.NoError, apex.ResponseCode);
        Assert.Empty(apex.Answers);
        Assert.Empty(dns.Source.Forwarded);
        Assert.Empty(dns.Source.Host);
    }

    [Fact]
    public void OtherTypesOfALocalNameAreNoData()
    {
        var dns = new DnsResolverHarness();
        var mx = dns.AskNow("host.docker.internal", DnsType.Mx, T0);
        Assert.Equal(DnsResponseCode.NoError, mx.ResponseCode);
        Assert.Empty(mx.Answers);
    }

    [Fact]
    public void RecordsFromSettingsAndAddedAtRunTimeAreAnswered()
    {
        var records = new Dictionary<string, IReadOnlyList<IpAddress>> { ["db.test"] = [IpAddress.Parse("10.1.1.1")] };
        var dns = new DnsResolverHarness(records: records);
        Assert.Equal(IpAddress.Parse("10.1.1.1"), Assert.Single(dns.AskNow("DB.test", DnsType.A, T0).Answers).Address);
        // A name with only an A record: AAAA is NODATA, not NXDOMAIN.
        var aaaa = dns.AskNow("db.test", DnsType.Aaaa, T0);
        Assert.Equal(DnsResponseCode.NoError, aaaa.ResponseCode);
        Assert.Empty(aaaa.Answers);

        Assert.Equal(DnsRecordChange.Added, dns.Resolver.Local.Add("web.vm.docker.internal", IpAddress.Parse("192.168.65.10")));
        Assert.Equal(DnsRecordChange.Added, dns.Resolver.Local.Add("web.vm.docker.internal", IpAddress.Parse("192.168.65.11")));
        Assert.Equal(DnsRecordChange.AlreadyPresent, dns.Resolver.Local.Add("WEB.vm.docker.internal.", IpAddress.Parse("192.168.65.11")));
        Assert.Equal(2, dns.AskNow("web.vm.docker.internal", DnsType.A, T0).Answers.Count);
        Assert.Equal(DnsRecordChange.Removed, dns.Resolver.Local.Remove("web.vm.docker.internal", IpAddress.Parse("192.168.65.10")));
        Assert.Equal(IpAddress.Parse("192.168.65.11"), Assert.Single(dns.AskNow("web.vm.docker.internal", DnsType.A, T0).Answers).Address);
        Assert.Equal(DnsRecordChange.Removed, dns.Resolver.Local.Remove("web.vm.docker.internal", null));
        Assert.Equal(DnsResponseCode.NameError, dns.AskNow("web.vm.docker.internal", DnsType.A, T0).ResponseCode);
        Assert.Equal(DnsRecordChange.NotFound, dns.Resolver.Local.Remove("web.vm.docker.internal", null));
    }

    [Fact]
    public void BuiltInNamesCannotBeChanged()
    {
        var dns = new DnsResolverHarness();
        Assert.Equal(DnsRecordChange.BuiltIn, dns.Resolver.Local.Add("host.docker.internal", IpAddress.Parse("10.0.0.1")));
        Assert.Equal(DnsRecordChange.BuiltIn, dns.Resolver.Local.Remove("gateway.docker.internal", null));
        Assert.Contains(dns.Resolver.Local.List(), r => r.Name == "http.docker.internal" && r.Origin == DnsRecordOrigin.BuiltIn);
    }

    [Theory]
    [InlineData("none", true, true)]
    [InlineData("ipv4", false, true)]
    [InlineData("ipv6", true, false)]
    public void InhibitionWithholdsItsFamilyAsNoData(string mode, bool a, bool aaaa)
    {
        var dns = new DnsResolverHarness(Enum.Parse<DnsInhibition>(mode, ignoreCase: true));
        var v4 = dns.AskNow("host.docker.internal", DnsType.A, T0);
        var v6 = dns.AskNow("host.docker.internal", DnsType.Aaaa, T0);
        Assert.Equal(DnsResponseCode.NoError, v4.ResponseCode);
        Assert.Equal(DnsResponseCode.NoError, v6.ResponseCode);
        Assert.Equal(a ? 1 : 0, v4.Answers.Count);
        Assert.Equal(aaaa ? 1 : 0, v6.Answers.Count);
        // Other names too, without a lookup.
        Assert.Equal(a, dns.Ask(DnsTestMessages.Query("example.test", DnsType.A), T0) is null);
        Assert.Equal(aaaa, dns.Ask(DnsTestMessages.Query("example.test", DnsType.Aaaa), T0) is null);
    }

    [Fact]
    public void AutoInhibitionFollowsTheGuestsAndTheHostsPaths()
    {
        // The guest has no IPv6 yet: AAAA is withheld, even for Usernet's own names.
        var dns = new DnsResolverHarness(DnsInhibition.Auto);
        Assert.Empty(dns.AskNow("host.docker.internal", DnsType.Aaaa, T0).Answers);
        Assert.Single(dns.AskNow("host.docker.internal", DnsType.A, T0).Answers);
        Assert.Empty(dns.AskNow("example.test", DnsType.Aaaa, T0).Answers);

        // A guest with IPv6: its own names' AAAA need only the guest's path; others need the host's too.
        var dual = new DnsResolverHarness(DnsInhibition.Auto, guestIpv6: true);
        dual.Inhibition.HostHasIpv6 = false;
        Assert.Single(dual.AskNow("host.docker.internal", DnsType.Aaaa, T0).Answers);
        Assert.Empty(dual.AskNow("example.test", DnsType.Aaaa, T0).Answers);
        dual.Inhibition.HostHasIpv6 = true;
        Assert.Null(dual.Ask(DnsTestMessages.Query("example.test", DnsType.Aaaa), T0));
        Assert.Single(dual.Source.Host);

        // A host without IPv4 withholds A records of names beyond it.
        dual.Inhibition.HostHasIpv4 = false;
        Assert.Empty(dual.AskNow("example.test", DnsType.A, T0).Answers);
        Assert.Single(dual.AskNow("host.docker.internal", DnsType.A, T0).Answers);
    }

    [Fact]
    public void ConcurrentQueriesShareOneHostLookup()
    {
        var dns = new DnsResolverHarness();
        for (ushort i = 0; i < 3; i++)
        {
            var from = new IpEndpoint(DnsResolverHarness.Guest.Address, (ushort)(5000 + i));
            Assert.Null(dns.Ask(DnsTestMessages.Query("app.corp.test", DnsType.A, id: (ushort)(100 + i)), T0, from));
        }
        var lookup = Assert.Single(dns.Source.Host);
        Assert.Equal("app.corp.test", lookup.Text);
        Assert.Equal(DnsLookupKind.Host, lookup.Kind);
        Assert.Equal(1, dns.Resolver.LookupsInFlight);
        Assert.Equal(2, dns.Counters.JoinedLookup);

        dns.Resolver.CompleteHost(lookup, Found("10.20.30.40", "10.20.30.41"), At(0.1));
        var late = dns.Late.OrderBy(l => l.Destination.Port).ToList();
        Assert.Equal([5000, 5001, 5002], late.Select(l => (int)l.Destination.Port));
        Assert.All(late, l => Assert.Equal(DnsResolverHarness.Server, l.Source));
        var responses = dns.TakeLate().OrderBy(r => r.Id).ToList();
        Assert.Equal([100, 101, 102], responses.Select(r => (int)r.Id));
        Assert.All(responses, r => Assert.Equal(2, r.Answers.Count));
        Assert.All(responses, r => Assert.Equal((uint)DnsResolver.HostTtl.TotalSeconds, r.Answers[0].Ttl));
        Assert.Equal(0, dns.Resolver.LookupsInFlight);
        Assert.Equal(1, dns.Counters.AnsweredByHost);
    }

    [Fact]
    public void AHostAnswerIsCachedForItsTtlThenLookedUpAgain()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("app.test", DnsType.A), T0);
        dns.Resolver.CompleteHost(dns.Source.Host[0], Found("10.0.0.7"), T0);
        dns.TakeLate();

        var cached = dns.AskNow("app.test", DnsType.A, At(4.5));
        Assert.Equal(6u, Assert.Single(cached.Answers).Ttl);
        Assert.Equal(1, dns.Counters.AnsweredFromCache);

        Assert.Null(dns.Ask(DnsTestMessages.Query("app.test", DnsType.A), At(10)));
        Assert.Equal(2, dns.Source.Host.Count);
    }

    [Fact]
    public void NoSuchNameAndNoDataFromTheHostAreCachedBriefly()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("gone.test", DnsType.A), T0);
        dns.Resolver.CompleteHost(dns.Source.Host[0], HostLookupResult.Of(HostLookupStatus.NoName), T0);
        Assert.Equal(DnsResponseCode.NameError, Assert.Single(dns.TakeLate()).ResponseCode);
        dns.Ask(DnsTestMessages.Query("v4only.test", DnsType.Aaaa), T0);
        dns.Resolver.CompleteHost(dns.Source.Host[1], HostLookupResult.Of(HostLookupStatus.NoData), T0);
        var noData = Assert.Single(dns.TakeLate());
        Assert.Equal(DnsResponseCode.NoError, noData.ResponseCode);
        Assert.Empty(noData.Answers);

        Assert.Equal(DnsResponseCode.NameError, dns.AskNow("gone.test", DnsType.A, At(4)).ResponseCode);
        Assert.Equal(DnsResponseCode.NoError, dns.AskNow("v4only.test", DnsType.Aaaa, At(4)).ResponseCode);
        Assert.Null(dns.Ask(DnsTestMessages.Query("gone.test", DnsType.A), At(5)));
    }

    [Fact]
    public void AHostFailureIsServfailAndNotCached()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("flaky.test", DnsType.A), T0);
        dns.Resolver.CompleteHost(dns.Source.Host[0], HostLookupResult.Of(HostLookupStatus.Failed), T0);
        Assert.Equal(DnsResponseCode.ServerFailure, Assert.Single(dns.TakeLate()).ResponseCode);
        Assert.Null(dns.Ask(DnsTestMessages.Query("flaky.test", DnsType.A), T0));
        Assert.Equal(1, dns.Counters.ServerFailures);
        Assert.Equal(1, dns.Counters.UpstreamFailures);
    }

    [Fact]
    public void OtherTypesAreForwardedAndTheAnswerRewrittenForTheClient()
    {
        var dns = new DnsResolverHarness();
        Assert.Null(dns.Ask(DnsCaptures.DigMx, T0));
        var lookup = Assert.Single(dns.Source.Forwarded);
        Assert.Equal(DnsLookupKind.Upstream, lookup.Kind);
        Assert.Equal([DnsResolverHarness.Upstream1], lookup.Servers);
        Assert.Equal(DnsType.Mx, lookup.Type);

        // dnsmasq's answer as it came, to our query of another ID.
        byte[] upstream = DnsCaptures.DnsmasqMx;
        upstream[0] = 0x55;
        dns.Resolver.CompleteForward(lookup, upstream, At(0.01));
        var response = Assert.Single(dns.TakeLate());
        Assert.Equal(0x30f7, response.Id);
        var mx = Assert.Single(response.Answers);
        Assert.Equal("mail.test", mx.Name);
        Assert.Equal(DnsType.Mx, mx.Type);
        Assert.Equal(new byte[] { 0, 10, 3, (byte)'m', (byte)'x', (byte)'1', 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0 }, mx.Data);
        Assert.Equal(DnsType.Opt, Assert.Single(response.Additional).Type);
        Assert.Equal(1, dns.Counters.AnsweredByUpstream);
        // TTL 0 (dnsmasq's local-ttl): not cached.
        Assert.Null(dns.Ask(DnsCaptures.DigMx, At(0.02)));
    }

    [Fact]
    public void ForwardedTtlsAgeInTheCache()
    {
        var dns = new DnsResolverHarness();
        byte[] query = DnsTestMessages.Query("t.test", DnsType.Txt);
        dns.Ask(query, T0);
        var lookup = dns.Source.Forwarded[0];
        dns.Resolver.CompleteForward(lookup, DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord("hello", 300), DnsTestMessages.TxtRecord("again", 200)]), T0);
        dns.TakeLate();
        var cached = dns.AskNow("T.TEST", DnsType.Txt, At(100.7));
        Assert.Equal([200u, 100u], cached.Answers.Select(a => a.Ttl));
        Assert.Equal("t.test", cached.Answers[0].Name);
        // Cached until the smallest TTL runs out.
        Assert.Null(dns.Ask(query, At(200)));
    }

    [Fact]
    public void ANegativeUpstreamAnswerIsCachedForItsSoaMinimum()
    {
        var dns = new DnsResolverHarness();
        byte[] query = DnsTestMessages.Query("nothing.test", DnsType.Txt);
        dns.Ask(query, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0],
            DnsTestMessages.Upstream(query, DnsResponseCode.NameError, [], [DnsTestMessages.SoaRecord(600, 60)]), T0);
        var first = Assert.Single(dns.TakeLate());
        Assert.Equal(DnsResponseCode.NameError, first.ResponseCode);
        Assert.Equal(DnsType.Soa, Assert.Single(first.Authority).Type);
        var cached = dns.AskNow("nothing.test", DnsType.Txt, At(59));
        Assert.Equal(DnsResponseCode.NameError, cached.ResponseCode);
        Assert.Equal(541u, Assert.Single(cached.Authority).Ttl);
        Assert.Null(dns.Ask(query, At(60)));
    }

    [Fact]
    public void ANegativeUpstreamAnswerWithoutSoaIsNotCached()
    {
        // RFC 2308 §5: without an SOA there is no negative TTL.
        var dns = new DnsResolverHarness(hostResolver: false);
        dns.Ask(DnsCaptures.DigNx, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], DnsCaptures.DnsmasqNx, T0);
        Assert.Equal(DnsResponseCode.NameError, Assert.Single(dns.TakeLate()).ResponseCode);
        Assert.Null(dns.Ask(DnsCaptures.DigNx, T0));
    }

    [Fact]
    public void AnAnswerLargerThanTheClientsUdpSizeIsTruncatedAndWholeOverTcp()
    {
        var dns = new DnsResolverHarness();
        byte[] query = DnsTestMessages.Query("big.test", DnsType.Txt, edns: true, udpSize: 1232);
        dns.Ask(query, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0],
            DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord(new string('x', 3000), 300)]), T0);
        var udp = Assert.Single(dns.TakeLate());
        Assert.True(udp.Truncated);
        Assert.Empty(udp.Answers);
        Assert.Equal(DnsType.Opt, Assert.Single(udp.Additional).Type);
        Assert.True(udp.Length <= 1232);

        var stream = new RecordingStream();
        var tcp = dns.Ask(query, At(1), stream: stream)!;
        Assert.False(tcp.Truncated);
        Assert.Equal(3000 + 12, Assert.Single(tcp.Answers).Data.Length);

        // Without EDNS the limit is 512; with a large offer, the server's 4096.
        Assert.True(dns.AskNow("big.test", DnsType.Txt, At(1)).Truncated);
        Assert.False(dns.AskNow("big.test", DnsType.Txt, At(1), edns: true, udpSize: 65000).Truncated);
        Assert.Equal(2, dns.Counters.Truncated);
    }

    [Fact]
    public void AResponseNeverGoesPastTheBufferItIsWrittenInto()
    {
        var dns = new DnsResolverHarness();
        var replyTo = new DnsReplyTo(DnsResolverHarness.Guest, DnsResolverHarness.Server);
        byte[] query = DnsTestMessages.Query("host.docker.internal", DnsType.A, edns: true);
        int whole = dns.AskRaw(query, T0);
        int questionAndOpt = DnsMessage.HeaderLength + "host.docker.internal".Length + 2 + 4 + DnsRecord.OptLength;

        // One byte short of the whole answer: the answer is left out and TC says so.
        byte[] backing = new byte[whole + 64];
        Array.Fill(backing, (byte)0xEE);
        int length = dns.Resolver.Resolve(query, replyTo, backing.AsSpan(0, whole - 1), T0);
        Assert.Equal(questionAndOpt, length);
        var response = DnsTestMessages.Parse(backing.AsSpan(0, length));
        Assert.True(response.Truncated);
        Assert.Empty(response.Answers);
        Assert.All(backing[(whole - 1)..], b => Assert.Equal(0xEE, b));

        // Not even the question fits: nothing is written and nothing is sent.
        Array.Fill(backing, (byte)0xEE);
        Assert.Equal(DnsResolver.Dropped, dns.Resolver.Resolve(query, replyTo, backing.AsSpan(0, questionAndOpt - 1), T0));
        Assert.All(backing, b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void ALookupPastItsDeadlineIsServfailAndItsLateResultIgnored()
    {
        var dns = new DnsResolverHarness(options: new DnsResolverOptions { Timeout = TimeSpan.FromSeconds(1.5) });
        var deadlines = new List<Instant>();
        dns.Resolver.ScheduleExpiry = deadlines.Add;
        dns.Ask(DnsTestMessages.Query("slow.test", DnsType.Txt), T0);
        Assert.Equal([At(1.5)], deadlines);
        Assert.Equal(At(1.5), dns.Resolver.NextDeadline);
        dns.Resolver.Expire(At(1.4));
        Assert.Empty(dns.Late);
        dns.Resolver.Expire(At(1.5));
        Assert.Equal(DnsResponseCode.ServerFailure, Assert.Single(dns.TakeLate()).ResponseCode);
        Assert.Equal(1, dns.Counters.Timeouts);
        Assert.Equal(Instant.Never, dns.Resolver.NextDeadline);

        byte[] query = DnsTestMessages.Query("slow.test", DnsType.Txt);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord("late", 60)]), At(2));
        Assert.Empty(dns.Late);
        Assert.Null(dns.Ask(query, At(2)));
        Assert.Equal(2, dns.Source.Forwarded.Count);
    }

    [Fact]
    public void NoAnswerFromAnyUpstreamIsServfail()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("dead.test", DnsType.Txt), T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], null, At(1));
        Assert.Equal(DnsResponseCode.ServerFailure, Assert.Single(dns.TakeLate()).ResponseCode);
        Assert.Equal(1, dns.Counters.UpstreamFailures);
        Assert.Equal(0, dns.Counters.Timeouts);
    }

    [Fact]
    public void TheAnswerTimeIsFromTheQueryToItsResponse()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("host.docker.internal", DnsType.A), T0);
        byte[] query = DnsTestMessages.Query("slow.test", DnsType.Txt);
        dns.Ask(query, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord("hi", 60)]), At(0.2));
        Assert.Single(dns.TakeLate());
        var time = dns.Counters.AnswerTime;
        Assert.Equal(2, time.Count);
        Assert.Equal(0.2, time.SumSeconds, 6);
        int bucket = time.BoundsSeconds.ToList().IndexOf(0.25);
        // The local answer took no time; the forwarded one 200 ms, within the 0.25 s bucket but not the 0.1 s one.
        Assert.Equal(1, time.CumulativeCounts()[bucket - 1]);
        Assert.Equal(2, time.CumulativeCounts()[bucket]);
    }

    [Fact]
    public void RoutesPickTheLongestMatchingDomainForEveryType()
    {
        var corp = new IpEndpoint(Ipv4Address.Parse("127.0.0.2"), 53);
        var lab = new IpEndpoint(Ipv4Address.Parse("127.0.0.3"), 5353);
        var routes = new Dictionary<string, IReadOnlyList<IpEndpoint>> { ["corp.example"] = [corp], ["lab.corp.example"] = [lab] };
        var dns = new DnsResolverHarness(routes: routes);
        dns.Ask(DnsTestMessages.Query("db.lab.corp.example", DnsType.A), T0);
        dns.Ask(DnsTestMessages.Query("corp.example", DnsType.Mx), T0);
        dns.Ask(DnsTestMessages.Query("notcorp.example", DnsType.Mx), T0);
        Assert.Empty(dns.Source.Host);
        Assert.Equal([[lab], [corp], [DnsResolverHarness.Upstream1]], dns.Source.Forwarded.Select(l => l.Servers.ToList()));
    }

    [Fact]
    public void WithoutNameserversForwardingIsServfailAtOnce()
    {
        var dns = new DnsResolverHarness();
        dns.Resolver.Upstreams.HostNameservers = [];
        Assert.Equal(DnsResponseCode.ServerFailure, dns.AskNow("a.test", DnsType.Txt, T0).ResponseCode);
    }

    [Fact]
    public void NamesGetaddrinfoWouldReadAsAddressesAreForwarded()
    {
        var dns = new DnsResolverHarness();
        dns.Ask(DnsTestMessages.Query("10.1", DnsType.A), T0);
        dns.Ask(DnsTestMessages.Query("0x7f.1", DnsType.A), T0);
        Assert.Empty(dns.Source.Host);
        Assert.Equal(2, dns.Source.Forwarded.Count);
    }

    [Fact]
    public void WithoutTheHostResolverAddressesAreForwarded()
    {
        var dns = new DnsResolverHarness(hostResolver: false);
        dns.Ask(DnsTestMessages.Query("app.test", DnsType.A), T0);
        Assert.Empty(dns.Source.Host);
        Assert.Single(dns.Source.Forwarded);
    }

    [Fact]
    public void LookupsInFlightAreBoundedAndPastTheBoundServfail()
    {
        var dns = new DnsResolverHarness(options: new DnsResolverOptions { MaxLookups = 2 });
        Assert.Null(dns.Ask(DnsTestMessages.Query("a.test", DnsType.Txt), T0));
        Assert.Null(dns.Ask(DnsTestMessages.Query("b.test", DnsType.Txt), T0));
        Assert.Equal(DnsResponseCode.ServerFailure, dns.AskNow("c.test", DnsType.Txt, T0).ResponseCode);
        Assert.Equal(1, dns.Counters.Overloaded);
        Assert.Equal(2, dns.Resolver.LookupsInFlight);
    }

    [Fact]
    public void WaitersOfOneLookupAreBoundedAndARetransmissionWaitsOnce()
    {
        var dns = new DnsResolverHarness(options: new DnsResolverOptions { MaxWaitersPerLookup = 3 });
        byte[] query = DnsTestMessages.Query("a.test", DnsType.Txt);
        Assert.Equal(DnsResolver.Pending, dns.AskRaw(query, T0));
        Assert.Equal(DnsResolver.Dropped, dns.AskRaw(query, T0));
        for (ushort port = 1; port <= 3; port++)
        {
            dns.Ask(query, T0, new IpEndpoint(DnsResolverHarness.Guest.Address, port));
        }
        Assert.Equal(1, dns.Counters.DroppedWaiters);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], null, T0);
        Assert.Equal(3, dns.Late.Count);
    }

    [Fact]
    public void MalformedAndUnsupportedQueriesGetTheirErrors()
    {
        var dns = new DnsResolverHarness();
        byte[] garbage = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3F, 1, 2];
        var formErr = dns.Ask(garbage, T0)!;
        Assert.Equal(0xABCD, formErr.Id);
        Assert.Equal(DnsResponseCode.FormatError, formErr.ResponseCode);
        Assert.Empty(formErr.Question);

        var notify = dns.Ask(DnsTestMessages.Query("a.test", DnsType.Soa, flags: 4 << 11), T0)!;
        Assert.Equal(DnsResponseCode.NotImplemented, notify.ResponseCode);
        Assert.Equal(4, (notify.Flags >> 11) & 0xF);

        Assert.Equal(DnsResponseCode.Refused, dns.Ask(DnsTestMessages.Query("version.bind", DnsType.Txt, @class: 3), T0)!.ResponseCode);
        Assert.Equal(DnsResponseCode.Refused, dns.Ask(DnsTestMessages.Query("docker.internal", DnsType.Axfr), T0)!.ResponseCode);

        byte[] badVersion = DnsTestMessages.Query("a.test", DnsType.A, edns: true);
        badVersion[^5] = 1;
        var badVers = dns.Ask(badVersion, T0)!;
        Assert.Equal(0, badVers.ResponseCode);
        Assert.Equal(1u, badVers.Opt!.Ttl >> 24);

        Assert.Equal(DnsResolver.Dropped, dns.AskRaw(DnsCaptures.DnsmasqMx, T0));
        Assert.Equal(DnsResolver.Dropped, dns.AskRaw([1, 2, 3], T0));
        Assert.Equal(2, dns.Counters.DroppedMalformed);
        Assert.Equal(2, dns.Counters.FormatErrors);
        Assert.Equal(1, dns.Counters.NotImplemented);
        Assert.Equal(2, dns.Counters.Refused);
    }

    [Fact]
    public void ClearingTheCacheForgetsForwardedAnswers()
    {
        var dns = new DnsResolverHarness();
        byte[] query = DnsTestMessages.Query("t.test", DnsType.Txt);
        dns.Ask(query, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord("one", 300)]), T0);
        Assert.NotNull(dns.Ask(query, T0));
        dns.Resolver.ClearCache();
        Assert.Null(dns.Ask(query, T0));
    }

    [Fact]
    public void BuiltInAndCachedAnswersAllocateNothing()
    {
        var dns = new DnsResolverHarness();
        byte[] local = DnsCaptures.DigA;
        byte[] cached = DnsTestMessages.Query("t.test", DnsType.Txt, edns: true);
        dns.Ask(cached, T0);
        dns.Resolver.CompleteForward(dns.Source.Forwarded[0], DnsTestMessages.Upstream(cached, 0, [DnsTestMessages.TxtRecord("cached", 300)]), T0);
        byte[] response = new byte[DnsResponseWriter.UdpPayloadSize];
        var replyTo = new DnsReplyTo(DnsResolverHarness.Guest, DnsResolverHarness.Server);
        for (int i = 0; i < 100; i++)
        {
            dns.Resolver.Resolve(local, replyTo, response, At(1));
            dns.Resolver.Resolve(cached, replyTo, response, At(1));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(dns.Resolver.Resolve(local, replyTo, response, At(2)) > 0);
            Assert.True(dns.Resolver.Resolve(cached, replyTo, response, At(2)) > 0);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
