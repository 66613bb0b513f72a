namespace Usernet.Config;

/// <summary>
/// The top-level parts of <see cref="Settings"/>. A hot reload restarts only the parts whose
/// settings changed, so each key belongs to exactly one section.
/// </summary>
internal enum SettingsSection
{
    Network,
    Dns,
    Proxy,
    ContainersProxy,
    Ports,
    Tcp,
    Udp,
    Fragments,
    Dhcp,
    Security,
    Socks,
    Metrics,
    Log,
    Egress,
    Loop,
}
