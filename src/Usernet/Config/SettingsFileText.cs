namespace Usernet.Config;

/// <summary>
/// A settings file as read from disk: its text, or nothing when it does not exist, or the
/// reason it could not be read. Reading is kept apart from loading so that loading is a pure
/// function that tests (and reloads) can call with any text.
/// </summary>
internal sealed record SettingsFileText(string Path, string? Contents, string? ReadError = null)
{
    /// <summary>A file that does not exist is no error unless <paramref name="mustExist"/> (a path the user named).</summary>
    public static SettingsFileText Read(string path, bool mustExist)
    {
        try
        {
            return new SettingsFileText(path, File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new SettingsFileText(path, null, mustExist ? "the file does not exist" : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new SettingsFileText(path, null, $"cannot read the file: {e.Message}");
        }
    }

    /// <summary>The path only: the contents may hold credentials.</summary>
    public override string ToString() => Path;
}
