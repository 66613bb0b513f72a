using System.Text.Json;

namespace Usernet.Stack.Egress;

/// <summary>
/// The verdicts of one policy: how many flows each rule decided, and the default. A reload
/// builds a new policy with counters of its own, since its rules and their indexes are new;
/// <see cref="Reloads"/> and <see cref="ReloadsRefused"/> are carried over by the holder.
/// Decisions come from the loop and from the proxy's threads, so counting is atomic.
/// </summary>
internal sealed class EgressCounters(int rules)
{
    private readonly long[] _byRule = new long[rules];
    private long _defaultAllowed;
    private long _defaultDenied;
    private long _allowed;
    private long _denied;

    public long Allowed => Interlocked.Read(ref _allowed);

    public long Denied => Interlocked.Read(ref _denied);

    public long DefaultAllowed => Interlocked.Read(ref _defaultAllowed);

    public long DefaultDenied => Interlocked.Read(ref _defaultDenied);

    /// <summary>Flows rule <paramref name="index"/> decided.</summary>
    public long ByRule(int index) => Interlocked.Read(ref _byRule[index]);

    public void Count(EgressDecision decision)
    {
        Interlocked.Increment(ref decision.Allowed ? ref _allowed : ref _denied);
        if (decision.ByDefault)
        {
            Interlocked.Increment(ref decision.Allowed ? ref _defaultAllowed : ref _defaultDenied);
        }
        else
        {
            Interlocked.Increment(ref _byRule[decision.Rule]);
        }
    }

    /// <summary>The totals and one entry per rule, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer, IReadOnlyList<EgressRuleSpec> rules)
    {
        writer.WriteNumber("allowed", Allowed);
        writer.WriteNumber("denied", Denied);
        writer.WriteNumber("defaultAllowed", DefaultAllowed);
        writer.WriteNumber("defaultDenied", DefaultDenied);
        writer.WriteStartArray("rules");
        for (int i = 0; i < rules.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", i);
            writer.WriteString("rule", rules[i].ToString());
            writer.WriteString("action", rules[i].Action == EgressAction.Allow ? "allow" : "deny");
            writer.WriteBoolean("admin", rules[i].Admin);
            writer.WriteNumber("flows", ByRule(i));
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
