using System.Text;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The rules of the SOCKS5 server's keys: where it may listen, and what its credentials may be.</summary>
internal static class SocksRules
{
    /// <summary>
    /// Beyond loopback the server would let the network into the guests: only with
    /// socks.allowNonLoopback, which admin-settings.json can lock off.
    /// </summary>
    public static string? LoopbackUnlessAllowed(SettingValues values, IpEndpoint? listen) =>
        LoopbackUnless(values, listen, SettingsSchema.SocksAllowNonLoopback, "lets other hosts into the guests' networks");

    /// <summary>
    /// A listener beyond loopback only with the explicit consent of <paramref name="allow"/>;
    /// <paramref name="consequence"/> says what listening there would do.
    /// </summary>
    public static string? LoopbackUnless(SettingValues values, IpEndpoint? listen, SettingDefinition<bool> allow, string consequence) =>
        listen is { } endpoint && !endpoint.Address.IsLoopback && !values.Get(allow)
            ? $"{endpoint} is not a loopback address: listening there {consequence}, and needs {allow.Key}=true"
            : null;

    /// <summary>RFC 1929 §2 carries each in at most 255 bytes.</summary>
    public static string? CredentialLength(SettingValues values, string text) =>
        Encoding.UTF8.GetByteCount(text) > 255 ? "is longer than the 255 bytes RFC 1929 allows" : null;

    public static string? PasswordNeedsUser(SettingValues values, string password) =>
        password.Length > 0 && values.Get(SettingsSchema.SocksUser).Length == 0 ? "is set, but socks.user is not: set both, or neither" : null;
}
