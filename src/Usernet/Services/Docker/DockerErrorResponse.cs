using System.Globalization;
using System.Text;
using System.Text.Json;
using Usernet.Http;

namespace Usernet.Services.Docker;

/// <summary>An error answered by the API proxy itself, as the Docker daemon writes its errors: a JSON body with a "message".</summary>
internal static class DockerErrorResponse
{
    /// <summary>The whole response; with <paramref name="close"/>, the connection ends after it.</summary>
    public static byte[] Format(int status, string message, bool close = false)
    {
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }
        body.WriteByte((byte)'\n');
        var headers = new HttpHeaders();
        headers.Add("Content-Type", "application/json");
        headers.Add("Content-Length", body.Length.ToString(CultureInfo.InvariantCulture));
        if (close)
        {
            headers.Add("Connection", "close");
        }
        var head = new HttpResponseHead("HTTP/1.1", status, HttpStatus.ReasonPhrase(status), headers);
        return [.. Encoding.ASCII.GetBytes(head.Format()), .. body.ToArray()];
    }
}
