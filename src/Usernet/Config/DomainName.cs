namespace Usernet.Config;

/// <summary>DNS names as settings hold them: lower case, without the trailing dot.</summary>
internal static class DomainName
{
    /// <summary>The longest name in text, without the trailing dot: 255 octets on the wire (RFC 1035 §2.3.4, §3.1).</summary>
    public const int MaxLength = 253;

    /// <summary>
    /// RFC 1035 §2.3.4 limits, with '_' allowed because service names (_ldap._tcp) and some
    /// internal host names use it. Every valid name is one <see cref="Wire.DnsName.Encode(string)"/> writes.
    /// </summary>
    public static bool IsValid(string name) => Problem(name) is null;

    /// <summary>What keeps <paramref name="name"/> from being a valid name, or null when it is one.</summary>
    public static string? Problem(string name)
    {
        string trimmed = name.EndsWith('.') ? name[..^1] : name;
        if (trimmed.Length == 0)
        {
            return "it is empty";
        }
        if (trimmed.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }
        foreach (string label in trimmed.Split('.'))
        {
            if (label.Length == 0)
            {
                return "it has an empty label";
            }
            if (label.Length > 63)
            {
                return $"label {label[..10]}… is longer than 63 characters";
            }
            int other = label.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
            if (other >= 0)
            {
                return label[other] is > ' ' and < '\x7F'
                    ? $"'{label[other]}' is not a letter, digit, '-' or '_'"
                    : "it has a character that is not ASCII or not printable (an international name is written as xn--)";
            }
            if (label.StartsWith('-') || label.EndsWith('-'))
            {
                return $"label {label} starts or ends with '-'";
            }
        }
        return null;
    }

    public static string Normalize(string name) => (name.EndsWith('.') ? name[..^1] : name).ToLowerInvariant();
}
