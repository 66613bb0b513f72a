using System.Text;
using System.Text.Json;

namespace Usernet.Control;

/// <summary>One HTTP request to the control API.</summary>
internal sealed record ControlRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string Body, int PeerUid);

/// <summary>One HTTP response from the control API; bodies are JSON but for <c>/metrics</c>'s.</summary>
internal sealed record ControlResponse(int Status, string Body, string ContentType = "application/json")
{
    /// <summary>
    /// A body written as it comes, until it ends or the client goes (<c>GET /flows?follow=1</c>):
    /// sent with no Content-Length, so it ends where the connection closes (RFC 9112 §6.3).
    /// </summary>
    public Func<Stream, CancellationToken, Task>? Streamed { get; init; }

    /// <summary>What the response holds until it is written, or fails to be: disposed then.</summary>
    public IDisposable? Owned { get; init; }

    public static ControlResponse Stream(string contentType, Func<Stream, CancellationToken, Task> write) =>
        new(200, "", contentType) { Streamed = write };

    public static ControlResponse Json(string body, int status = 200) => new(status, body);

    public static ControlResponse Error(int status, string message) =>
        new(status, JsonText.Build(w => w.WriteString("error", message)));

    public static ControlResponse Ok() => new(200, "{}");
}

/// <summary>JSON written by hand with Utf8JsonWriter: no reflection, so NativeAOT keeps it all.</summary>
internal static class JsonText
{
    public static string Build(Action<Utf8JsonWriter> writeProperties)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string BuildArray(Action<Utf8JsonWriter> writeItems)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            writeItems(writer);
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>An array of one object per item, whose properties <paramref name="writeItem"/> writes.</summary>
    public static string BuildArray<T>(IEnumerable<T> items, Action<Utf8JsonWriter, T> writeItem) => BuildArray(w =>
    {
        foreach (var item in items)
        {
            w.WriteStartObject();
            writeItem(w, item);
            w.WriteEndObject();
        }
    });
}
