using Usernet.Services.Proxy.Pac;

namespace Usernet.Fuzz.Fakes;

/// <summary>The host a PAC script sees: names under .example resolve, the clock stands still, and nothing leaves the process.</summary>
internal sealed class FakePacHost : IPacHost
{
    public DateTimeOffset Now { get; } = new(2024, 6, 7, 12, 0, 0, TimeSpan.Zero);

    public TimeZoneInfo TimeZone => TimeZoneInfo.Utc;

    public Task<string?> DnsResolveAsync(string host) =>
        Task.FromResult(host.EndsWith(".example", StringComparison.OrdinalIgnoreCase) ? "198.18.0.7" : null);

    public string MyIpAddress() => "192.168.65.3";
}
