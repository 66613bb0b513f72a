namespace Usernet.Services.Docker;

/// <summary>
/// Usernet's own request to the guest's Docker daemon failed: it did not answer
/// (<see cref="Unreachable"/>: stopped, or stopping), answered malformed HTTP, or answered with an error.
/// </summary>
internal sealed class DockerDaemonException(string message, Exception? inner = null, bool unreachable = false) : Exception(message, inner)
{
    public bool Unreachable { get; } = unreachable;
}
