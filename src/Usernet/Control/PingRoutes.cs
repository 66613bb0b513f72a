using System.Globalization;
using Usernet.Platform;
using Usernet.Services.Diagnostics;
using Usernet.Services.Socks;
using Usernet.Wire;

namespace Usernet.Control;

/// <summary>
/// <c>POST /ping?target=ADDRESS-OR-NAME&amp;count=N</c>: echo requests from the gateway into a
/// guest's network, answered when the run is over. The target is what the SOCKS server may
/// reach (<see cref="SocksDestinations"/>): a guest's address, one behind a guest, or a name of
/// Usernet's own DNS records.
/// </summary>
internal static class PingRoutes
{
    public const string Path = "/ping";

    public const int MaxCount = 100;

    public static void Map(ControlServer control, EventLoop loop, GuestPinger pinger, SocksDestinations destinations)
    {
        control.Map("POST", Path, async request =>
        {
            string target = request.Query.TryGetValue("target", out var given) && given.Length > 0
                ? given : throw new ControlRequestException(400, "target is missing");
            int count = 3;
            if (request.Query.TryGetValue("count", out var text)
                && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxCount))
            {
                throw new ControlRequestException(400, $"count '{text}' is not a number of 1..{MaxCount}");
            }
            var run = await loop.InvokeAsync(now =>
            {
                var destination = Resolve(destinations, target);
                return pinger.Start(destination, count, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), now)
                    ?? throw new ControlRequestException(503, $"{GuestPinger.MaxRuns} pings are under way already");
            });
            var result = await run;
            return ControlResponse.Json(JsonText.Build(w =>
            {
                w.WriteString("target", target);
                w.WriteString("address", result.Destination.ToString());
                w.WriteNumber("transmitted", result.Transmitted);
                w.WriteNumber("received", result.Replies.Count);
                w.WriteStartArray("replies");
                foreach (var reply in result.Replies.OrderBy(r => r.Sequence))
                {
                    w.WriteStartObject();
                    w.WriteNumber("sequence", reply.Sequence);
                    w.WriteNumber("milliseconds", Math.Round(reply.RoundTrip.TotalMilliseconds, 3));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }));
        });
    }

    private static IpAddress Resolve(SocksDestinations destinations, string target)
    {
        if (IpAddress.TryParse(target, out var address))
        {
            return destinations.IsInside(address)
                ? address
                : throw new ControlRequestException(400, $"{address} is not in the guests' networks (their subnet, prefix or network.guestRoutes)");
        }
        return destinations.Resolve(target.TrimEnd('.').ToLowerInvariant(), out address) switch
        {
            SocksRefusal.None => address,
            SocksRefusal.NotAllowed => throw new ControlRequestException(400, $"{target} is not in the guests' networks"),
            _ => throw new ControlRequestException(404, $"{target} is not a name Usernet knows (dns.records, usernet dns add)"),
        };
    }
}
