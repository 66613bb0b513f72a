using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>What a resolv.conf(5) says: nameservers and the search list.</summary>
internal sealed record ResolvConf(IReadOnlyList<IpAddress> Nameservers, IReadOnlyList<string> SearchDomains)
{
    public static readonly ResolvConf Empty = new([], []);

    /// <summary>Reads <paramref name="path"/>; a missing or unreadable file is an empty configuration.</summary>
    public static ResolvConf Read(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Empty;
        }
    }

    public static ResolvConf Parse(string text)
    {
        var nameservers = new List<IpAddress>();
        var search = new List<string>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            string[] words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            switch (words[0])
            {
                case "nameserver" when words.Length >= 2:
                    // A scoped link-local server (fe80::1%eth0) cannot be used from another namespace.
                    if (IpAddress.TryParse(words[1], out var address))
                    {
                        nameservers.Add(address);
                    }
                    break;
                case "search":
                    // The last search or domain line wins (resolv.conf(5)).
                    search = words.Skip(1).ToList();
                    break;
                case "domain" when words.Length >= 2:
                    search = [words[1]];
                    break;
            }
        }
        return new ResolvConf(nameservers, search);
    }
}
