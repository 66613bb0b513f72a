namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// A PAC script could not be fetched, compiled or run: the message says why, for the log;
/// <see cref="GuestMessage"/> says it without the script's location, for a guest that is blocked.
/// </summary>
internal sealed class PacException(string message, string? guestMessage = null) : Exception(message)
{
    public string GuestMessage { get; } = guestMessage ?? message;
}
