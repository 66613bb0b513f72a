using System.Text.Json;

namespace Usernet.Stack;

/// <summary>
/// What the stack saw and dropped. Every frame that is not used is counted under a reason,
/// so hostile or broken input shows up in <c>usernet stats</c> instead of vanishing.
/// </summary>
internal sealed class StackCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];

    public long FramesIn;
    public long FramesOut;
    public long ArpRepliesSent;
    public long EchoRepliesSent;
    public long EchoRepliesReceived;
    public long IcmpErrorsSent;
    public long FragmentsSentToGuest;

    public void Drop(DropReason reason) => _drops[(int)reason]++;

    public long Dropped(DropReason reason) => _drops[(int)reason];

    public long TotalDropped => _drops.Sum();

    /// <summary>Writes the counters into the object being written, the drops by reason (those not zero) as an object of their own.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("framesIn", FramesIn);
        writer.WriteNumber("framesOut", FramesOut);
        writer.WriteNumber("arpReplies", ArpRepliesSent);
        writer.WriteNumber("echoReplies", EchoRepliesSent);
        writer.WriteNumber("echoRepliesReceived", EchoRepliesReceived);
        writer.WriteNumber("icmpErrors", IcmpErrorsSent);
        writer.WriteNumber("fragmentsToGuest", FragmentsSentToGuest);
        writer.WriteNumber("dropped", TotalDropped);
        writer.WriteStartObject("drops");
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            long count = _drops[(int)reason];
            if (count != 0)
            {
                writer.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(reason.ToString()), count);
            }
        }
        writer.WriteEndObject();
    }
}
