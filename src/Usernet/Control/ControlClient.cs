using System.Text;
using Usernet.Http;

namespace Usernet.Control;

/// <summary>The CLI's side of the control API.</summary>
internal static class ControlClient
{
    /// <summary>
    /// Sends one request and reads the answer with the same reader the server uses. Throws
    /// <see cref="HttpFormatException"/> when the answer is not well-formed HTTP.
    /// </summary>
    public static async Task<(int Status, string Body)> SendAsync(string socketPath, string method, string path, string? body = null)
    {
        var (status, received) = await UnixHttpClient.SendAsync(socketPath, method, path, "usernet", body ?? "");
        return (status, Encoding.UTF8.GetString(received));
    }
}
