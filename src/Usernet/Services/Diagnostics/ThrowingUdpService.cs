using Usernet.Platform;
using Usernet.Stack;

namespace Usernet.Services.Diagnostics;

/// <summary>
/// For the end-to-end tests of fault containment only: with <c>USERNET_TEST_FAULTS=1</c> in its
/// environment, an instance serves this on the gateway's UDP port 9 (discard). Every datagram
/// to it throws, as a bug in a service would; one whose payload is "timer" first arms a loop
/// timer that throws when it fires. No guest input reaches a throw in the real services any
/// more, and the tests must still show that a throw costs one frame and not the link.
/// </summary>
internal sealed class ThrowingUdpService(TimerQueue timers) : IUdpService
{
    public const string EnvironmentVariable = "USERNET_TEST_FAULTS";

    public const ushort Port = 9;

    private readonly LoopTimer _timer = timers.Create(_ => throw new InvalidOperationException("a fault injected in a timer for a test"));

    public static bool Enabled => Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";

    public bool AcceptsBroadcast => false;

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        if (request.Payload.SequenceEqual("timer"u8) || request.Payload.SequenceEqual("timer\n"u8))
        {
            _timer.Schedule(now);
        }
        throw new InvalidOperationException("a fault injected in a frame for a test");
    }
}
