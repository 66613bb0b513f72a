namespace Usernet.Services.Dns;

/// <summary>A client waiting for a lookup, with what its response needs from its query, and when it asked (for the answer time).</summary>
internal sealed record DnsWaiter(DnsReplyTo ReplyTo, ushort Id, ushort Flags, byte[] Question, bool Edns, int Limit, Instant Asked);
