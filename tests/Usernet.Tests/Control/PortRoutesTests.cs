using Usernet.Control;

namespace Usernet.Tests.Control;

/// <summary>gvproxy's expose and unexpose bodies, read as gvproxy's clients write them.</summary>
public sealed class PortRoutesTests
{
    [Theory]
    [InlineData("""{"local": ":8080", "remote": "192.168.65.3:80"}""", "8080:80/tcp", "192.168.65.3")]
    [InlineData("""{"local": "127.0.0.1:8080", "remote": "192.168.65.3:80", "protocol": "udp"}""", "127.0.0.1:8080:80/udp", "192.168.65.3")]
    [InlineData("""{"local": "[::1]:8080", "remote": "[fdc4:f303:9324::3]:80"}""", "[::1]:8080:80/tcp", "fdc4:f303:9324::3")]
    public void ReadsExpose(string body, string spec, string guest)
    {
        var parsed = PortRoutes.FromGvproxy(body, needRemote: true);
        Assert.Equal(spec, parsed.ToString());
        Assert.Equal(guest, parsed.GuestAddress.ToString());
    }

    [Theory]
    [InlineData("""{"local": "8080", "remote": "192.168.65.3:80"}""", "local '8080' is not [ADDRESS]:PORT: the port is missing")]
    [InlineData("""{"local": ":0", "remote": "192.168.65.3:80"}""", "local ':0' is not [ADDRESS]:PORT: port 0 is not a number in 1..65535")]
    [InlineData("""{"local": ":8080", "remote": "192.168.65.3"}""", "remote '192.168.65.3' is not ADDRESS:PORT: the port is missing")]
    [InlineData("""{"local": ":8080", "remote": "guest:80"}""", "remote 'guest:80' is not ADDRESS:PORT: guest is not an IP address")]
    // Each of these was accepted before: a sign or white space in the port, a bracket trimmed
    // away, an IPv6 address split at its last colon, and "[]" for every address.
    [InlineData("""{"local": ":+8080", "remote": "192.168.65.3:80"}""", "local ':+8080' is not [ADDRESS]:PORT: port +8080 is not a number in 1..65535")]
    [InlineData("""{"local": ":8080", "remote": "192.168.65.3: 80"}""", "remote '192.168.65.3: 80' is not ADDRESS:PORT: port  80 is not a number in 1..65535")]
    [InlineData("""{"local": "[::1:8080", "remote": "192.168.65.3:80"}""", "local '[::1:8080' is not [ADDRESS]:PORT: an opening '[' has no closing ']'")]
    [InlineData("""{"local": ":8080", "remote": "fdc4:f303:9324::3:80"}""", "remote 'fdc4:f303:9324::3:80' is not ADDRESS:PORT: it has more than one ':'")]
    [InlineData("""{"local": "[]:8080", "remote": "192.168.65.3:80"}""", "local '[]:8080' is not [ADDRESS]:PORT: [] in brackets is not an IPv6 address")]
    public void RefusesWhatIsNoEndpoint(string body, string message)
    {
        var error = Assert.Throws<ControlRequestException>(() => PortRoutes.FromGvproxy(body, needRemote: true));
        Assert.Equal(400, error.Status);
        Assert.StartsWith(message, error.Message);
    }
}
