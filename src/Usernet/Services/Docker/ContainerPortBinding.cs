namespace Usernet.Services.Docker;

/// <summary>
/// One host binding a container asked for (an entry of <c>HostConfig.PortBindings</c>):
/// <c>"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]</c>. An empty or 0 host port is
/// one the daemon picks (<c>-P</c>, <c>-p 80</c>), and so is one of a host range
/// (<c>-p 8000-8010:80</c>); <see cref="HostIp"/> is empty for every address.
/// </summary>
internal sealed record ContainerPortBinding(int ContainerPort, string Protocol, string HostIp, int HostPortFirst, int HostPortLast)
{
    /// <summary>Whether the host port is known before the container starts.</summary>
    public bool IsFixed => HostPortFirst != 0 && HostPortFirst == HostPortLast;
}
