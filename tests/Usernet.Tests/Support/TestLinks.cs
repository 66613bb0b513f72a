using System.Collections.Concurrent;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>A link of its own for each guest MAC, as each VM on a LAN has: for services that tell clients apart by link.</summary>
internal static class TestLinks
{
    private static readonly ConcurrentDictionary<MacAddress, RecordingLink> Links = new();

    public static RecordingLink Of(MacAddress mac) => Links.GetOrAdd(mac, m => new RecordingLink($"guest {m}"));
}
