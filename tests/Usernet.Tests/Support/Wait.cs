namespace Usernet.Tests.Support;

/// <summary>Polls for a condition that another process or thread makes true, up to a deadline.</summary>
internal static class Wait
{
    /// <summary>True as soon as <paramref name="condition"/> holds; after <paramref name="seconds"/>, whether it holds then.</summary>
    public static bool Until(Func<bool> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return condition();
    }
}
