namespace Usernet.Stack;

/// <summary>
/// Bounds on reassembly state, which the guest fills at will. Memory stays within
/// <see cref="MaxDatagrams"/> buffers of at most 64 KiB each, and each datagram lives at most
/// <see cref="Timeout"/> from its first fragment (RFC 791 §3.2 suggests 15 s; Linux uses 30 s).
/// </summary>
internal readonly record struct ReassemblyLimits(int MaxDatagrams, int MaxFragmentsPerDatagram, TimeSpan Timeout);
