using System.Collections.Concurrent;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>A link of its own for each guest MAC, as each VM on a LAN has: for services that tell clients apart by link.</summary>
internal static class TestLinks
{
    private static readonly ConcurrentDictionary<MacAddress, RecordingLink> Links = new();

    public static RecordingLink Of(MacAddress mac) => Links.GetOrAdd(mac, m => new RecordingLink($"guest {m}"));

    /// <summary>
    /// Fills a table bounded per link and in all: <paramref name="add"/> is called for each n
    /// below <paramref name="count"/> with a link that takes <paramref name="perLink"/> of them,
    /// a fresh one for each share. Returns the links in order.
    /// </summary>
    public static List<RecordingLink> Fill(int count, int perLink, Action<int, RecordingLink> add)
    {
        var links = new List<RecordingLink>();
        for (int n = 0; n < count; n++)
        {
            if (n % perLink == 0)
            {
                links.Add(new RecordingLink($"filler {links.Count}"));
            }
            add(n, links[^1]);
        }
        return links;
    }
}
