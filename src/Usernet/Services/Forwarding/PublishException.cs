namespace Usernet.Services.Forwarding;

/// <summary>A publish that cannot be made, with a message fit for the user; nothing else changed.</summary>
internal sealed class PublishException(string message) : Exception(message);
