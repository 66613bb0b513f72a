using System.Net.Sockets;
using System.Text;

namespace Usernet.Control;

/// <summary>The CLI's side of the control API.</summary>
internal static class ControlClient
{
    public static async Task<(int Status, string Body)> SendAsync(string socketPath, string method, string path, string? body = null)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        byte[] content = Encoding.UTF8.GetBytes(body ?? "");
        string head = $"{method} {path} HTTP/1.1\r\nHost: usernet\r\nContent-Type: application/json\r\n" +
            $"Content-Length: {content.Length}\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None);
        if (content.Length > 0)
        {
            await socket.SendAsync(content, SocketFlags.None);
        }
        using var response = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            response.Write(buffer, 0, n);
        }
        string text = Encoding.UTF8.GetString(response.ToArray());
        int headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0 || !text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || !int.TryParse(text.AsSpan(9, 3), out int status))
        {
            throw new InvalidOperationException("malformed response from the instance");
        }
        return (status, text[(headerEnd + 4)..]);
    }
}
