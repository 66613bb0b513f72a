namespace Usernet.Services.Forwarding;

/// <summary>
/// A publish that cannot be made, with a message fit for the user; nothing else changed.
/// <see cref="AddressInUse"/> says the host port is held (by another program, or by another
/// publish of this instance), as Docker's "port is already allocated" does.
/// </summary>
internal sealed class PublishException(string message, bool addressInUse = false) : Exception(message)
{
    public bool AddressInUse { get; } = addressInUse;
}
