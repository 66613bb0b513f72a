using Usernet.Config;
using Usernet.Http;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Tests.Services.Proxy;

/// <summary>
/// What pre-emptive authentication remembers: only proxies that asked for Negotiate or NTLM,
/// each by its own URL, in a table that stays bounded whatever a PAC script names. (The
/// tokens themselves come from GSSAPI, proven against a real KDC in ProxyTests.Kerberos.)
/// </summary>
public sealed class UpstreamSchemesTests
{
    private static ProxyUri Proxy(string text)
    {
        Assert.True(ProxyUri.TryParse(text, out var proxy, out string? error), error);
        return proxy;
    }

    [Fact]
    public void AProxyThatAskedOnlyForBasicIsNotAuthenticatedPreemptively()
    {
        var schemes = new UpstreamSchemes();
        var proxy = Proxy("http://alice:pw@proxy.corp.test:3128");
        using var authentication = new ProxyAuthentication(proxy, ProxyAuthentication.BasicAuthorization(proxy), schemes);
        var response = HttpHeadParser.ParseResponse("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n\r\n"u8);
        Assert.Throws<ProxyException>(() => authentication.Answer(response));
        Assert.Null(schemes.Of(proxy));

        using var next = new ProxyAuthentication(proxy, ProxyAuthentication.BasicAuthorization(proxy), schemes);
        next.Preempt();
        Assert.Equal(ProxyAuthentication.BasicAuthorization(proxy), next.Authorization);
        Assert.False(next.IsConnectionBound);
    }

    [Fact]
    public void EachProxyIsRememberedByItsOwnUrlAndTheTableStaysBounded()
    {
        var schemes = new UpstreamSchemes();
        schemes.Remember(Proxy("http://proxy.corp.test:3128"), "Negotiate");
        schemes.Remember(Proxy("http://proxy.corp.test:8080"), "NTLM");
        Assert.Equal("Negotiate", schemes.Of(Proxy("http://proxy.corp.test:3128")));
        Assert.Equal("NTLM", schemes.Of(Proxy("http://proxy.corp.test:8080")));
        Assert.Null(schemes.Of(Proxy("http://other.corp.test:3128")));

        for (int i = 0; i < UpstreamSchemes.Limit * 3; i++)
        {
            schemes.Remember(Proxy($"http://proxy{i}.corp.test:3128"), "Negotiate");
            Assert.InRange(schemes.Count, 1, UpstreamSchemes.Limit);
        }
        Assert.Equal("Negotiate", schemes.Of(Proxy($"http://proxy{UpstreamSchemes.Limit * 3 - 1}.corp.test:3128")));
    }
}
