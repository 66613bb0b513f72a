namespace Usernet.Services.Diagnostics;

/// <summary>One echo reply: its sequence number and how long after its request it came.</summary>
internal readonly record struct PingReply(ushort Sequence, TimeSpan RoundTrip);
