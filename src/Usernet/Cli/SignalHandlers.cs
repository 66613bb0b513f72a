using System.Runtime.InteropServices;

namespace Usernet.Cli;

/// <summary>Signal registrations that end together.</summary>
internal sealed class SignalHandlers(PosixSignalRegistration[] registrations) : IDisposable
{
    public void Dispose()
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
    }
}
