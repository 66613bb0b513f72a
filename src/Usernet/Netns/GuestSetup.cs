using System.Text;
using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Netns;

/// <summary>How the init configures the guest's interface.</summary>
internal enum GuestAddressing
{
    /// <summary>Address and route set directly: the fastest start.</summary>
    Static,

    /// <summary>Address, route and MTU from our DHCP server, as a VM would get them.</summary>
    Dhcp,

    /// <summary>Link up, no address: the command configures it (udhcpc, dhclient).</summary>
    None,
}

/// <summary>What `usernet run` tells the init in the namespace, sent as JSON over the control channel.</summary>
internal sealed record GuestSetup
{
    public string TapName { get; init; } = "tap0";

    public MacAddress Mac { get; init; }

    public int Mtu { get; init; }

    public GuestAddressing Addressing { get; init; }

    public Ipv4Address Address { get; init; }

    public int PrefixLength { get; init; }

    public Ipv4Address Gateway { get; init; }

    public bool Ipv4 { get; init; } = true;

    public bool Ipv6 { get; init; } = true;

    public Ipv6Address Address6 { get; init; }

    public int PrefixLength6 { get; init; } = 64;

    /// <summary>The router's link-local address: the IPv6 default route goes through it.</summary>
    public Ipv6Address Gateway6 { get; init; }

    public IReadOnlyList<string> Nameservers { get; init; } = [];

    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>Bind-mount a resolv.conf naming our DNS over the host's, in the namespace only.</summary>
    public bool PrivateResolvConf { get; init; } = true;

    /// <summary>
    /// A cgroup namespace rooted at the cgroup the parent started the init in, with cgroup2
    /// mounted on /sys/fs/cgroup and prepared for nesting, as a container engine in the guest
    /// needs (see <see cref="GuestCgroup"/>). Otherwise the host's cgroup tree is carried over.
    /// </summary>
    public bool CgroupNamespace { get; init; }

    /// <summary>A fresh tmpfs on /run, so that a daemon's sockets, pid files and state there stay in the guest.</summary>
    public bool PrivateRun { get; init; }

    /// <summary>Host directories bind-mounted into the guest, after /run is replaced.</summary>
    public IReadOnlyList<GuestBind> Binds { get; init; } = [];

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("tap", TapName);
            writer.WriteString("mac", Mac.ToString());
            writer.WriteNumber("mtu", Mtu);
            writer.WriteString("addressing", Addressing.ToString());
            writer.WriteString("address", Address.ToString());
            writer.WriteNumber("prefix", PrefixLength);
            writer.WriteString("gateway", Gateway.ToString());
            writer.WriteBoolean("ipv4", Ipv4);
            writer.WriteBoolean("ipv6", Ipv6);
            writer.WriteString("address6", Address6.ToString());
            writer.WriteNumber("prefix6", PrefixLength6);
            writer.WriteString("gateway6", Gateway6.ToString());
            WriteList(writer, "nameservers", Nameservers);
            WriteList(writer, "search", SearchDomains);
            writer.WriteBoolean("resolvConf", PrivateResolvConf);
            writer.WriteBoolean("cgroupNamespace", CgroupNamespace);
            writer.WriteBoolean("privateRun", PrivateRun);
            writer.WriteStartArray("binds");
            foreach (var bind in Binds)
            {
                writer.WriteStartObject();
                writer.WriteString("source", bind.Source);
                writer.WriteString("target", bind.Target);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static GuestSetup FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        MacAddress.TryParse(root.GetProperty("mac").GetString()!, out var mac);
        return new GuestSetup
        {
            TapName = root.GetProperty("tap").GetString()!,
            Mac = mac,
            Mtu = root.GetProperty("mtu").GetInt32(),
            Addressing = Enum.Parse<GuestAddressing>(root.GetProperty("addressing").GetString()!),
            Address = Ipv4Address.Parse(root.GetProperty("address").GetString()!),
            PrefixLength = root.GetProperty("prefix").GetInt32(),
            Gateway = Ipv4Address.Parse(root.GetProperty("gateway").GetString()!),
            Ipv4 = root.GetProperty("ipv4").GetBoolean(),
            Ipv6 = root.GetProperty("ipv6").GetBoolean(),
            Address6 = Ipv6Address.Parse(root.GetProperty("address6").GetString()!),
            PrefixLength6 = root.GetProperty("prefix6").GetInt32(),
            Gateway6 = Ipv6Address.Parse(root.GetProperty("gateway6").GetString()!),
            Nameservers = ReadList(root, "nameservers"),
            SearchDomains = ReadList(root, "search"),
            PrivateResolvConf = root.GetProperty("resolvConf").GetBoolean(),
            CgroupNamespace = root.GetProperty("cgroupNamespace").GetBoolean(),
            PrivateRun = root.GetProperty("privateRun").GetBoolean(),
            Binds = root.GetProperty("binds").EnumerateArray()
                .Select(b => new GuestBind(b.GetProperty("source").GetString()!, b.GetProperty("target").GetString()!)).ToList(),
        };
    }

    private static void WriteList(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (string value in values)
        {
            writer.WriteStringValue(value);
        }
        writer.WriteEndArray();
    }

    private static List<string> ReadList(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToList();
}
