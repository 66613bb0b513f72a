namespace Usernet.Services.Docker;

/// <summary>What keeps <c>usernet docker</c> from starting, said so that the user knows what to do; nothing was started.</summary>
internal sealed class DockerSetupException(string message) : Exception(message);
