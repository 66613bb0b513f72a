using Usernet.Config;

namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// Fetches a PAC script's text: embeddedPac itself, or pac as an absolute path, file:// or
/// http(s):// URL. Its errors name the location (password masked) for the log, and only what
/// went wrong for the guest: a PAC URL may hold credentials or a token.
/// </summary>
internal static class PacSource
{
    public const int MaxBytes = 1024 * 1024;

    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    public static string Load(string location)
    {
        try
        {
            if (location.StartsWith('/') || location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
            {
                string path = location.StartsWith('/') ? location : new Uri(location).LocalPath;
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    throw new PacException($"the PAC file {path} does not exist", "the PAC file does not exist");
                }
                if (info.Length > MaxBytes)
                {
                    throw new PacException($"the PAC file {path} is larger than {MaxBytes / 1024} KiB", $"the PAC file is larger than {MaxBytes / 1024} KiB");
                }
                return File.ReadAllText(path);
            }
            // Never through a proxy: the PAC is what says which proxy to use.
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = FetchTimeout, MaxResponseContentBufferSize = MaxBytes };
            using var response = client.GetAsync(location).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                string status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                throw new PacException($"fetching the PAC script {Redaction.Redact(location)} gave {status}", $"fetching the PAC script gave {status}");
            }
            return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException or TaskCanceledException or UriFormatException)
        {
            throw new PacException($"the PAC script {Redaction.Redact(location)} cannot be fetched: {Redaction.Redact(e.Message)}", "the PAC script cannot be fetched");
        }
    }
}
