using System.Security.Cryptography;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A file of random bytes in /dev/shm (shared with the guest's mount namespace), its hash, and a
/// path beside it for the copy a transfer writes; both are removed with it.
/// </summary>
internal sealed class Blob : IDisposable
{
    public Blob(long size)
    {
        Path = $"/dev/shm/usernet-test-blob-{Guid.NewGuid():N}";
        ProcessRunner.Check(ProcessRunner.Shell($"head -c {size} /dev/urandom > {Path}", TimeSpan.FromSeconds(60)));
        Sha256 = Sha256Of(Path);
    }

    public string Path { get; }

    public string Sha256 { get; }

    /// <summary>Where a test has the blob's copy written.</summary>
    public string ReceivedPath => Path + ".received";

    /// <summary>The SHA-256 of a file, in lower-case hex as sha256sum prints it.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    public void Dispose()
    {
        File.Delete(Path);
        File.Delete(ReceivedPath);
    }
}
