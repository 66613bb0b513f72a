using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Usernet.Platform;

/// <summary>
/// A set of capabilities as the kernel holds one: a 64-bit mask, bit N for capability N, as
/// /proc/PID/status prints it (CapEff: 0000000000000400 is CAP_NET_BIND_SERVICE alone). Names are
/// the kernel's without the CAP_ prefix (NET_BIND_SERVICE), which is also accepted.
/// </summary>
internal readonly record struct CapabilitySet(ulong Mask)
{
    public static readonly CapabilitySet Empty = new(0);

    /// <summary>Every capability this kernel knows (bits up to /proc/sys/kernel/cap_last_cap), or up to CAP_CHECKPOINT_RESTORE.</summary>
    public static CapabilitySet All
    {
        get
        {
            int last = (int)Capability.CheckpointRestore;
            try
            {
                last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
            {
            }
            return new(last >= 63 ? ulong.MaxValue : (1UL << (last + 1)) - 1);
        }
    }

    public static CapabilitySet Of(params Capability[] capabilities) =>
        new(capabilities.Aggregate(0UL, (mask, capability) => mask | (1UL << (int)capability)));

    public bool Contains(Capability capability) => (Mask & (1UL << (int)capability)) != 0;

    public bool IsEmpty => Mask == 0;

    public CapabilitySet Intersect(CapabilitySet other) => new(Mask & other.Mask);

    public CapabilitySet Union(CapabilitySet other) => new(Mask | other.Mask);

    public CapabilitySet Except(CapabilitySet other) => new(Mask & ~other.Mask);

    /// <summary>The capability numbers in the set, lowest first.</summary>
    public IEnumerable<int> Numbers()
    {
        for (int bit = 0; bit < 64; bit++)
        {
            if ((Mask & (1UL << bit)) != 0)
            {
                yield return bit;
            }
        }
    }

    /// <summary>The kernel's name of a capability, without CAP_: NET_BIND_SERVICE.</summary>
    public static string NameOf(int number) =>
        Enum.IsDefined((Capability)number) ? ToKernelName(((Capability)number).ToString()) : $"CAP_{number}";

    /// <summary>Reads NET_BIND_SERVICE or CAP_NET_BIND_SERVICE (any case).</summary>
    public static bool TryParseName(string text, [NotNullWhen(true)] out Capability? capability)
    {
        string name = text.Trim().ToUpperInvariant();
        if (name.StartsWith("CAP_", StringComparison.Ordinal))
        {
            name = name[4..];
        }
        foreach (var candidate in Enum.GetValues<Capability>())
        {
            if (ToKernelName(candidate.ToString()) == name)
            {
                capability = candidate;
                return true;
            }
        }
        capability = null;
        return false;
    }

    /// <summary>The mask as /proc/PID/status writes it: 16 hex digits.</summary>
    public string Hex => Mask.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The names, comma-separated; "none" for the empty set.</summary>
    public override string ToString() => IsEmpty ? "none" : string.Join(", ", Numbers().Select(NameOf));

    /// <summary>NetBindService -> NET_BIND_SERVICE.</summary>
    private static string ToKernelName(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
