using Usernet.Services.Dns;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>
/// The DNS server's UDP side on the gateway, over a resolver whose lookups the input answers:
/// DnsServer itself would run them through getaddrinfo and real upstream sockets.
/// </summary>
internal sealed class DnsService(DnsResolver resolver, NetworkStack stack) : IUdpService
{
    private readonly byte[] _response = new byte[DnsResponseWriter.UdpPayloadSize];

    public bool AcceptsBroadcast => false;

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        int length = resolver.Resolve(request.Payload, new DnsReplyTo(request.Source, request.Destination), _response, now);
        PropertyException.Check(length <= _response.Length, $"a DNS response of {length} bytes");
        if (length > 0)
        {
            stack.SendUdp(request.Destination, request.Source, _response.AsSpan(0, length));
        }
    }
}
