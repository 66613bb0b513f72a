using Usernet.Config;
using Usernet.Fuzz.Fakes;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Upstream;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// What an upstream SOCKS5 proxy answers (RFC 1928, RFC 1929), read by the client the proxy
/// tunnels through: bit 0 of the first byte gives the proxy URL a user and password, bit 1
/// asks for a name rather than an address. The only way to fail is
/// <see cref="ProxyException"/> (the guest's 502).
/// </summary>
internal sealed class Socks5Target : IFuzzTarget
{
    private static readonly ProxyUri Anonymous = new("socks5", "198.18.0.9", 1080, null, null);
    private static readonly ProxyUri WithPassword = new("socks5", "198.18.0.9", 1080, "alice", "secret");

    public void Run(ReadOnlySpan<byte> data)
    {
        var input = new FuzzInput(data);
        byte mode = input.Byte();
        var replies = new MemoryStream(input.Rest().ToArray(), writable: false);
        var proxy = (mode & 1) != 0 ? WithPassword : Anonymous;
        string host = (mode & 2) != 0 ? "origin.example" : "198.18.0.10";
        try
        {
            var tunnel = Socks5Client.ConnectAsync(new ScriptedStream(replies), proxy, host, 443, CancellationToken.None).GetAwaiter().GetResult();
            PropertyException.Check(tunnel is ScriptedStream, "the SOCKS5 client returned another stream");
        }
        catch (ProxyException)
        {
        }
    }
}
