namespace Usernet.Services.Proxy.Pac;

/// <summary>A PAC script could not be fetched, compiled or run; the message says why, for the log.</summary>
internal sealed class PacException(string message) : Exception(message);
