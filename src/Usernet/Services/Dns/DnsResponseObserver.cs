namespace Usernet.Services.Dns;

/// <summary>Sees a response on its way to a client.</summary>
internal delegate void DnsResponseObserver(ReadOnlySpan<byte> response);
