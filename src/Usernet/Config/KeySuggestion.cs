namespace Usernet.Config;

/// <summary>"Did you mean": the known key nearest to a misspelt or misplaced one.</summary>
internal static class KeySuggestion
{
    public static string? Nearest(string unknown, IEnumerable<string> known)
    {
        var names = known.ToArray();
        string? best = Closest(unknown, names, name => name);
        // A right name at the wrong depth ("maxConnections" at the top) matches on its last part.
        return best ?? Closest(LastPart(unknown), names, LastPart);
    }

    private static string? Closest(string target, string[] names, Func<string, string> part)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string name in names)
        {
            int distance = Distance(target.ToLowerInvariant(), part(name).ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (name, distance);
            }
        }
        int allowed = target.Length <= 4 ? 1 : target.Length <= 8 ? 2 : 3;
        return bestDistance <= allowed ? best : null;
    }

    private static string LastPart(string key) => key[(key.LastIndexOf('.') + 1)..];

    /// <summary>Optimal string alignment distance: edits, counting a swap of neighbours as one.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
