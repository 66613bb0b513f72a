using Usernet.Platform;
using Usernet.Services.FlowLog;
using Usernet.Stack;

namespace Usernet.Control;

/// <summary>
/// <c>GET /flows</c>: the last flows that ended, one JSON line each (NDJSON), oldest first;
/// <c>GET /flows?follow=1</c>: each flow as it ends, from now on, until the client goes;
/// <c>GET /flows/open</c>: the flows open now, their counts so far, one line each with no end,
/// made on the loop thread when asked.
/// </summary>
internal static class FlowRoutes
{
    private const string ContentType = "application/x-ndjson";

    public static void Map(ControlServer control, FlowLog log, EventLoop loop, Func<IEnumerable<FlowRecord>> open)
    {
        control.Map("GET", "/flows/open", async _ => new ControlResponse(200, await loop.InvokeAsync(now => log.Open(open(), now)), ContentType));
        control.Map("GET", "/flows", request =>
        {
            if (request.Query.GetValueOrDefault("follow") is not ("1" or "true"))
            {
                string[] recent = log.Recent();
                return new ControlResponse(200, recent.Length == 0 ? "" : string.Join('\n', recent) + "\n", ContentType);
            }
            // Following from before the head goes out: a client that has the head misses no flow after it.
            var follower = log.Follow() ?? throw new ControlRequestException(503, $"{FlowLog.MaxFollowers} clients follow the flow log already");
            return ControlResponse.Stream(ContentType, async (stream, stop) =>
            {
                await foreach (string line in follower.Lines.ReadAllAsync(stop))
                {
                    await stream.WriteAsync(FlowLog.Bytes(line), stop);
                    await stream.FlushAsync(stop);
                }
            }) with { Owned = follower };
        });
    }
}
