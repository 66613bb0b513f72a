using System.Text;
using Usernet.Fuzz.Fakes;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Pac;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// PAC scripts and what they return. With bit 0 of the first byte clear, the input is a
/// request's host and FindProxyForURL's result: a fixed script runs every helper on the host,
/// and the result is read as the proxy reads one ("PROXY h:p; SOCKS5 h:p; DIRECT"). With it
/// set, the input is a script of its own, compiled and called as the proxy does. Scripts run
/// under Usernet's own limits (time, statements, memory, recursion), so a loop is a finding
/// only if those limits fail to end it: a call still running long after the limit is a hang.
/// </summary>
internal sealed class PacTarget : IFuzzTarget
{
    private const string HelperScript = """
        function FindProxyForURL(url, host) {
            isPlainHostName(host); dnsDomainIs(host, ".example"); localHostOrDomainIs(host, "www.example");
            isResolvable(host); isInNet(host, "198.18.0.0", "255.254.0.0"); dnsResolve(host); convert_addr(host);
            dnsDomainLevels(host); shExpMatch(host, "*.ex?mple"); myIpAddress();
            weekdayRange(host, "FRI"); dateRange(host, "JUN"); timeRange(host.length % 24, 23);
            return url;
        }
        """;

    /// <summary>How long past Usernet's own limit a call may run before it counts as hung.</summary>
    private static readonly TimeSpan Hung = PacScript.CallTimeout * 3;

    private readonly Lazy<PacScript> _helpers = new(() => PacScript.Compile(HelperScript, new FakePacHost()));

    public void Run(ReadOnlySpan<byte> data)
    {
        var input = new FuzzInput(data);
        byte mode = input.Byte();
        if ((mode & 1) == 0)
        {
            string host = Encoding.UTF8.GetString(input.Block(255));
            string result = Encoding.UTF8.GetString(input.Rest());
            Call(_helpers.Value, result, host, out _);
            ProxyRoute.ParsePacResult(result, out _);
            return;
        }
        string url = Encoding.UTF8.GetString(input.Block(255));
        string name = Encoding.UTF8.GetString(input.Block(255));
        string source = Encoding.UTF8.GetString(input.Rest());
        PacScript script;
        try
        {
            script = PacScript.Compile(source, new FakePacHost());
        }
        catch (PacException)
        {
            return;
        }
        using (script)
        {
            if (Call(script, url, name, out string? answer))
            {
                ProxyRoute.ParsePacResult(answer!, out _);
            }
        }
    }

    private static bool Call(PacScript script, string url, string host, out string? result)
    {
        var call = script.FindProxyAsync(url, host);
        PropertyException.Check(((IAsyncResult)call).AsyncWaitHandle.WaitOne(Hung), $"FindProxyForURL still runs after {Hung.TotalSeconds:0} s");
        if (call.IsFaulted)
        {
            PropertyException.Check(call.Exception!.InnerException is PacException, $"FindProxyForURL failed with {call.Exception.InnerException}");
            result = null;
            return false;
        }
        result = call.Result;
        return true;
    }
}
