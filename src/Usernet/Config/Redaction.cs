using System.Text.RegularExpressions;

namespace Usernet.Config;

/// <summary>
/// Masks the password of any "user:password@" in text that is about to be shown: proxy URLs
/// carry credentials, and they reach messages through values, flags and files alike. It masks
/// up to the last '@' of the line, so a password holding a raw '@', '/' or space is still
/// covered; masking too much on an odd line is the safe way to be wrong.
/// </summary>
internal static partial class Redaction
{
    public const string Mask = "***";

    public static string Redact(string text) =>
        text.Contains('@') ? Credentials().Replace(text, "${keep}" + Mask + "@") : text;

    // "scheme://user:" anywhere, or a value without a scheme that starts "user:" where values
    // start: after a quote or '=' (messages quote values; flags are KEY=VALUE). Not after a
    // space, where "network.mtu:" in a message would look like a user name.
    [GeneratedRegex("""(?<keep>(?:[A-Za-z][A-Za-z0-9+.\-]*://|(?<=["'=,;]))[^\s:@/"',;=]*:)(?!//).*@""")]
    private static partial Regex Credentials();
}
