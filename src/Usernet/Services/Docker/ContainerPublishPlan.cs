namespace Usernet.Services.Docker;

/// <summary>
/// Which host ports a container's bindings come to: each fixed binding as the container asked
/// (known before it starts), and each one the daemon picked (<c>-P</c>, <c>-p 80</c>, a host
/// range) at the port the daemon reported once it runs.
/// </summary>
internal static class ContainerPublishPlan
{
    /// <summary>The publishes known before the container starts.</summary>
    public static List<ContainerPublish> Fixed(ContainerInspection container) =>
        container.Bindings.Where(b => b.IsFixed)
            .Select(b => new ContainerPublish(b.HostIp, b.HostPortFirst, b.Protocol, b.ContainerPort))
            .Distinct()
            .ToList();

    /// <summary>
    /// Every publish of a running container: the fixed ones, and for each binding the daemon
    /// chose a port for, the port it reported (for an empty host IP, where it bound every address:
    /// 0.0.0.0, and :: beside it). A binding the daemon reported nothing for is left out.
    /// </summary>
    public static List<ContainerPublish> All(ContainerInspection container)
    {
        var publishes = Fixed(container);
        foreach (var binding in container.Bindings.Where(b => !b.IsFixed))
        {
            var chosen = container.Reported
                .Where(r => r.ContainerPort == binding.ContainerPort && r.Protocol == binding.Protocol && r.HostPort != 0
                    && InRange(binding, r.HostPort) && SameAddress(binding.HostIp, r.HostIp)
                    && !publishes.Any(p => p.HostPort == r.HostPort && p.Protocol == r.Protocol && p.HostIp == binding.HostIp))
                .OrderBy(r => r.HostIp.Contains(':') ? 1 : 0)
                .FirstOrDefault();
            if (chosen is not null)
            {
                publishes.Add(new ContainerPublish(binding.HostIp, chosen.HostPort, binding.Protocol, binding.ContainerPort));
            }
        }
        return publishes;
    }

    private static bool InRange(ContainerPortBinding binding, int port) =>
        binding.HostPortFirst == 0 || (port >= binding.HostPortFirst && port <= binding.HostPortLast);

    private static bool SameAddress(string asked, string reported) =>
        asked.Length == 0 ? reported is "" or "0.0.0.0" or "::" : reported == asked;
}
