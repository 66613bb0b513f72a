using Usernet.Services.Dns;

namespace Usernet.Tests.Services.Dns;

/// <summary>A TCP connection that keeps what it is sent.</summary>
internal sealed class RecordingStream : IDnsStream
{
    public List<byte[]> Sent { get; } = new();

    public void Send(ReadOnlySpan<byte> response) => Sent.Add(response.ToArray());
}
