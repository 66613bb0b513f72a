using Usernet.Wire;

namespace Usernet.Services.Diagnostics;

/// <summary>What a <see cref="GuestPinger"/> run came to.</summary>
internal sealed record PingResult(IpAddress Destination, int Transmitted, IReadOnlyList<PingReply> Replies);
