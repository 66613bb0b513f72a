using System.Text;
using Usernet.Services.Docker;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Tests.Services.Docker;

public sealed class ContainerPublishPlanTests
{
    private static readonly IpAddress GuestV6 = Ipv6Address.Parse("fdc4:f303:9324::3");

    private static ContainerInspection Parse(string json) => ContainerInspection.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void TheInspectionNamesTheContainerAndItsState()
    {
        var container = Parse(DockerCaptures.LoopbackBinding);
        Assert.Equal("bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff", container.Id);
        Assert.Equal("cap1", container.Name);
        Assert.True(container.Running);
        Assert.True(container.PublishesPorts);
        Assert.False(Parse(DockerCaptures.Created).Running);
        Assert.False(Parse(DockerCaptures.HostNetwork).PublishesPorts);
    }

    [Fact]
    public void ALoopbackBindingIsPublishedOnLoopbackToTheSamePortInTheGuest()
    {
        var container = Parse(DockerCaptures.LoopbackBinding);
        var publish = Assert.Single(ContainerPublishPlan.Fixed(container));
        Assert.Equal(new ContainerPublish("127.0.0.1", 18080, "tcp", 80), publish);
        Assert.Equal([publish], ContainerPublishPlan.All(container));
        var spec = publish.ToSpec(GuestV6);
        Assert.Equal(IpAddress.Parse("127.0.0.1"), spec.HostAddress);
        Assert.Equal((18080, 18080, 18080, 18080), (spec.HostPortFirst, spec.HostPortLast, spec.GuestPortFirst, spec.GuestPortLast));
        Assert.Null(spec.GuestAddress);
        Assert.Equal("127.0.0.1:18080", publish.DockerAddress);
    }

    [Fact]
    public void FixedPortsAreKnownBeforeTheStartAndPickedOnesAfter()
    {
        var container = Parse(DockerCaptures.Mixed);
        Assert.Equal(
            [new("", 18091, "tcp", 80), new("", 18092, "udp", 81), new("::1", 18093, "tcp", 84)],
            ContainerPublishPlan.Fixed(container));
        // -p 9000-9010:82 got 9000, -P (83 exposed) got 32768; on every address, as asked.
        Assert.Equal(
            [new("", 18091, "tcp", 80), new("", 18092, "udp", 81), new("::1", 18093, "tcp", 84), new("", 9000, "tcp", 82), new("", 32768, "tcp", 83)],
            ContainerPublishPlan.All(container));
    }

    [Fact]
    public void AnIpv6HostAddressGoesToTheGuestsIpv6Address()
    {
        var spec = new ContainerPublish("::1", 18093, "tcp", 84).ToSpec(GuestV6);
        Assert.Equal(IpAddress.Parse("::1"), spec.HostAddress);
        Assert.Equal(GuestV6, spec.GuestAddress);
        var any = new ContainerPublish("", 18092, "udp", 81).ToSpec(GuestV6);
        Assert.Null(any.HostAddress);
        Assert.Equal(PublishProtocol.Udp, any.Protocol);
    }

    [Fact]
    public void WhatUsernetCannotPublishIsRefusedWithTheReason()
    {
        Assert.Contains("TCP and UDP", Assert.Throws<PublishException>(() => new ContainerPublish("", 9, "sctp", 9).ToSpec(GuestV6)).Message);
        Assert.Contains("not an IP address", Assert.Throws<PublishException>(() => new ContainerPublish("localhost", 9, "tcp", 9).ToSpec(GuestV6)).Message);
    }

    [Fact]
    public void ADaemonThatHasNotBoundAPickedPortYetLeavesItOut()
    {
        var container = Parse(DockerCaptures.Mixed.Replace("\"32768\"", "\"\"", StringComparison.Ordinal));
        Assert.DoesNotContain(ContainerPublishPlan.All(container), p => p.ContainerPort == 83);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"Id\": 5}")]
    [InlineData("{\"Id\": \"x\", \"HostConfig\": {\"PortBindings\": {\"http/tcp\": []}}}")]
    [InlineData("{\"Id\": \"x\", \"HostConfig\": {\"PortBindings\": {\"80/tcp\": [{\"HostPort\": \"90-80\"}]}}}")]
    [InlineData("[1, 2]")]
    [InlineData("{\"Id\": ")]
    public void AnAnswerThatIsNotAContainerIsRefused(string json) =>
        Assert.Throws<FormatException>(() => Parse(json));

    [Fact]
    public void ATakenPortIsRefusedInDockersWordsWithItsHolder()
    {
        var container = Parse(DockerCaptures.LoopbackBinding);
        var publish = new ContainerPublish("", 8080, "tcp", 80);
        string message = ContainerPorts.Refusal(container, publish, new PublishException("port 8080 is already in use by nginx (pid 42)", addressInUse: true));
        Assert.Equal(
            "driver failed programming external connectivity on endpoint cap1 (bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff): " +
            "Bind for 0.0.0.0:8080 failed: port is already allocated (usernet: port 8080 is already in use by nginx (pid 42))",
            message);
        string other = ContainerPorts.Refusal(container, publish, new PublishException("port 80 is privileged"));
        Assert.EndsWith("usernet cannot publish 0.0.0.0:8080/tcp: port 80 is privileged", other);
    }
}
