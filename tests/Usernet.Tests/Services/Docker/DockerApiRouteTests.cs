using Usernet.Services.Docker;

namespace Usernet.Tests.Services.Docker;

public sealed class DockerApiRouteTests
{
    [Theory]
    [InlineData("POST", "/v1.41/containers/web/start", nameof(DockerApiAction.Start), "web")]
    [InlineData("POST", "/containers/bb34df0353dc/start?detachKeys=ctrl-p", nameof(DockerApiAction.Start), "bb34df0353dc")]
    [InlineData("POST", "/v1.47/containers/my_app.1-x/stop?t=3", nameof(DockerApiAction.StateChange), "my_app.1-x")]
    [InlineData("POST", "/containers/web/kill?signal=HUP", nameof(DockerApiAction.StateChange), "web")]
    [InlineData("POST", "/containers/web/restart", nameof(DockerApiAction.StateChange), "web")]
    [InlineData("POST", "/containers/web/rename?name=other", nameof(DockerApiAction.StateChange), "web")]
    [InlineData("DELETE", "/v1.41/containers/web?force=1", nameof(DockerApiAction.StateChange), "web")]
    [InlineData("POST", "/v1.41/containers/web/attach?stream=1&stdin=1", nameof(DockerApiAction.Hijack), "web")]
    [InlineData("GET", "/containers/web/attach/ws", nameof(DockerApiAction.Hijack), "web")]
    [InlineData("POST", "/v1.41/exec/4f2a/start", nameof(DockerApiAction.Hijack), null)]
    [InlineData("POST", "/v1.41/networks/create", nameof(DockerApiAction.NetworkChange), null)]
    [InlineData("DELETE", "/v1.41/networks/dnetnet", nameof(DockerApiAction.NetworkChange), null)]
    [InlineData("POST", "/networks/prune?filters=%7B%7D", nameof(DockerApiAction.NetworkChange), null)]
    [InlineData("POST", "/v1.41/networks/e54cb17dca99/connect", nameof(DockerApiAction.NetworkChange), null)]
    [InlineData("POST", "/networks/dnetnet/disconnect", nameof(DockerApiAction.NetworkChange), null)]
    public void RequestsThatConcernPortsOrStreamsAreRecognised(string method, string target, string action, string? container)
    {
        var route = DockerApiRoute.Of(method, target, upgrade: false);
        Assert.Equal(Enum.Parse<DockerApiAction>(action), route.Action);
        Assert.Equal(container, route.Container);
    }

    [Theory]
    [InlineData("GET", "/v1.41/containers/web/json")]
    [InlineData("GET", "/containers/web/start")]
    [InlineData("POST", "/containers/create?name=web")]
    [InlineData("POST", "/containers/web/wait")]
    [InlineData("POST", "/containers/web/pause")]
    [InlineData("GET", "/v1.41/events")]
    [InlineData("POST", "/build?t=x")]
    [InlineData("POST", "/vx/containers/web/start")]
    [InlineData("POST", "/containers/-web/start")]
    [InlineData("POST", "/containers/we%2Fb/start")]
    [InlineData("POST", "/containers//start")]
    [InlineData("GET", "/v1.41/networks")]
    [InlineData("GET", "/networks/dnetnet")]
    [InlineData("POST", "/networks/dnetnet")]
    [InlineData("DELETE", "/networks/-x")]
    public void OtherRequestsAreRelayedAsTheyAre(string method, string target) =>
        Assert.Equal(DockerApiRoute.Relay, DockerApiRoute.Of(method, target, upgrade: false));

    [Fact]
    public void AnyRequestAskingForAnUpgradeMayTurnRaw()
    {
        // BuildKit's session: POST /session with Connection: Upgrade, Upgrade: h2c.
        Assert.Equal(DockerApiAction.Hijack, DockerApiRoute.Of("POST", "/v1.41/session", upgrade: true).Action);
        Assert.Equal(DockerApiAction.Start, DockerApiRoute.Of("POST", "/containers/web/start", upgrade: true).Action);
    }
}
