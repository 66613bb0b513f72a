namespace Usernet.Services.Dns;

/// <summary>A guest's DNS-over-TCP connection, to which a late answer is sent.</summary>
internal interface IDnsStream
{
    /// <summary>Sends one response (without the length prefix). Called on the loop thread; must not block.</summary>
    void Send(ReadOnlySpan<byte> response);
}
