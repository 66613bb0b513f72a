namespace Usernet.Services.Dns;

/// <summary>
/// Whether a query for <paramref name="lowerName"/> (lower-case wire format) is to be refused
/// before it is looked up: the response code to answer with, or NOERROR (0) to go on.
/// </summary>
internal delegate byte DnsNameRefusal(ReadOnlySpan<byte> lowerName);
