using System.Net;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// Where a direct connection to <paramref name="address"/> (one of <paramref name="host"/>'s,
/// for <paramref name="port"/>) goes: the address to connect to, or null when it may not be
/// reached; <paramref name="denial"/> then names the egress rule that refused it, if one did.
/// </summary>
internal delegate IPAddress? DirectMapper(IPAddress address, string host, int port, out string? denial);
