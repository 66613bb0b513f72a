namespace Usernet.Services.Docker;

/// <summary>A port the daemon bound for a running container (an entry of <c>NetworkSettings.Ports</c>).</summary>
internal sealed record ContainerReportedPort(int ContainerPort, string Protocol, string HostIp, int HostPort);
