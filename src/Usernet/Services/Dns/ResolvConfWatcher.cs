namespace Usernet.Services.Dns;

/// <summary>
/// Notices when the host's resolv.conf changes (a VPN client rewrites it when it connects):
/// each poll reads the file and compares it with the last text. It is a small file, and
/// reading it is as cheap as a stat, and it sees every kind of change: rewritten in place,
/// replaced by rename, or a symlink pointed elsewhere (systemd-resolved, resolvconf).
/// </summary>
internal sealed class ResolvConfWatcher
{
    private readonly string _path;
    private string? _lastText;

    public ResolvConfWatcher(string path) => _path = path;

    public string Path => _path;

    /// <summary>The configuration now, and whether it differs from the last poll's (the first poll always does).</summary>
    public bool Poll(out ResolvConf configuration)
    {
        string text;
        try
        {
            text = File.ReadAllText(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Missing while it is being replaced, or gone: no nameservers until it is back.
            text = "";
        }
        configuration = text == _lastText ? ResolvConf.Empty : ResolvConf.Parse(text);
        if (text == _lastText)
        {
            return false;
        }
        _lastText = text;
        return true;
    }
}
