namespace Usernet.Control;

/// <summary>A request the control API refuses, with the HTTP status to send.</summary>
internal sealed class ControlRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
