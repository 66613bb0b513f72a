using System.Text;
using Usernet.Control;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Control;

/// <summary>
/// A control server without a socket answers requests from any stream (the fuzz target of the
/// control API reads them so), as it answers those from its socket.
/// </summary>
public sealed class ControlServerStreamTests
{
    private static readonly int OwnUid = Libc.GetEUid();

    private readonly ControlServer _server = new();

    public ControlServerStreamTests()
    {
        _server.Map("GET", "/stats", _ => ControlResponse.Json("""{"frames": 1}"""));
        _server.Map("GET", "/broken", (Func<ControlRequest, ControlResponse>)(_ => throw new InvalidOperationException("the handler broke")));
    }

    private async Task<ControlResponse?> Respond(string request, int? uid = null) =>
        await _server.RespondAsync(new MemoryStream(Encoding.ASCII.GetBytes(request)), uid ?? OwnUid, CancellationToken.None);

    [Fact]
    public async Task AnswersARequestFromAStream()
    {
        var response = await Respond("GET /stats HTTP/1.1\r\nHost: usernet\r\n\r\n");
        Assert.Equal((200, """{"frames": 1}"""), (response!.Status, response.Body));
    }

    [Theory]
    [InlineData("NONSENSE\r\n\r\n", 400)]
    [InlineData("GET /nowhere HTTP/1.1\r\nHost: usernet\r\n\r\n", 404)]
    [InlineData("POST /stats HTTP/1.1\r\nHost: usernet\r\nContent-Length: 0\r\n\r\n", 405)]
    [InlineData("POST /stats HTTP/1.1\r\nHost: usernet\r\nTransfer-Encoding: chunked\r\n\r\n", 411)]
    [InlineData("GET /broken HTTP/1.1\r\nHost: usernet\r\n\r\n", 500)]
    public async Task AnswersWhatGoesWrongWithItsStatus(string request, int status) =>
        Assert.Equal(status, (await Respond(request))!.Status);

    [Fact]
    public async Task RefusesAnotherUser() =>
        Assert.Equal(403, (await Respond("GET /stats HTTP/1.1\r\nHost: usernet\r\n\r\n", uid: OwnUid + 1))!.Status);

    [Fact]
    public async Task AnswersNothingWhenTheClientSentNothing() => Assert.Null(await Respond(""));

    [Fact]
    public void HasNoSocketToServeOn() => Assert.Throws<InvalidOperationException>(() => _server.Start());
}
