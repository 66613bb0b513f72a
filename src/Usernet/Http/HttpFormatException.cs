namespace Usernet.Http;

/// <summary>A message the peer sent breaks HTTP/1.1's syntax or our limits; the message says how, for a 400 body.</summary>
internal sealed class HttpFormatException(string message) : Exception(message);
