namespace Usernet.Config;

/// <summary>DNS names as settings hold them: lower case, without the trailing dot.</summary>
internal static class DomainName
{
    /// <summary>
    /// RFC 1035 §2.3.4 limits, with '_' allowed because service names (_ldap._tcp) and some
    /// internal host names use it.
    /// </summary>
    public static bool IsValid(string name)
    {
        string trimmed = name.EndsWith('.') ? name[..^1] : name;
        if (trimmed.Length is 0 or > 253)
        {
            return false;
        }
        foreach (string label in trimmed.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-')
                || label.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
            {
                return false;
            }
        }
        return true;
    }

    public static string Normalize(string name) => (name.EndsWith('.') ? name[..^1] : name).ToLowerInvariant();
}
