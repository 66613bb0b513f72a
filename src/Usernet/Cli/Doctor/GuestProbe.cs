using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Usernet.Netns;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Cli.Doctor;

/// <summary>
/// The guest side of the doctor's self-test: the command that <see cref="SelfTest"/> runs in the
/// namespace, as root of it. It does what a guest does first, one step after another, each with
/// a short timeout: DHCP (and configures tap0 with the lease), ARP for the gateway, ping of the
/// gateway and of the host address, a DNS query for host.docker.internal, and a TCP round trip
/// to the doctor's listener on the host's loopback. Each step is reported as one line
/// (<c>NAME TAB ok|fail TAB MICROSECONDS TAB DETAIL</c>) on an inherited pipe; it stops at the
/// first step that fails, since each needs the ones before it.
/// </summary>
internal static unsafe class GuestProbe
{
    public const string CommandName = "__doctor-guest";

    private const string Tap = "tap0";
    private const int SO_RCVTIMEO = 20;
    private const ushort EthernetTypeArp = 0x0806;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The arguments after the command name: report fd, MAC, gateway, host address, TCP port (0: no host steps).</summary>
    public static IReadOnlyList<string> Arguments(int reportFd, MacAddress mac, Ipv4Address gateway, Ipv4Address host, int port) =>
        [CommandName, reportFd.ToString(), mac.ToString(), gateway.ToString(), host.ToString(), port.ToString()];

    public static int Run(string[] args)
    {
        if (args.Length != 6 || !int.TryParse(args[1], out int fd) || !MacAddress.TryParse(args[2], out var mac)
            || !Ipv4Address.TryParse(args[3], out var gateway) || !Ipv4Address.TryParse(args[4], out var host) || !int.TryParse(args[5], out int port))
        {
            Console.Error.WriteLine("usernet: __doctor-guest is internal to `usernet doctor`");
            return 2;
        }
        Libc.SetCloseOnExec(fd, true);
        try
        {
            DhcpLeaseInfo? lease = null;
            bool ok = Step(fd, "dhcp", () =>
            {
                lease = DhcpClient.Acquire(Tap, mac, StepTimeout);
                using var netlink = new RouteNetlink();
                int index = RouteNetlink.IndexOf(Tap);
                netlink.AddAddress(index, lease.Address, lease.PrefixLength);
                netlink.AddDefaultRoute(lease.Router, index);
                return $"{lease.Address}/{lease.PrefixLength}, router {lease.Router}, mtu {lease.Mtu?.ToString() ?? "unset"}";
            });
            ok = ok && Step(fd, "arp", () => $"gateway {gateway} is at {ResolveArp(mac, lease!.Address, gateway)}");
            ok = ok && Step(fd, "ping gateway", () => Ping(gateway));
            ok = ok && (port == 0 || Step(fd, "ping host", () => Ping(host)));
            ok = ok && Step(fd, "dns", () => QueryHostName(gateway, host));
            ok = ok && (port == 0 || Step(fd, "tcp", () => RoundTrip(host, port)));
            return ok ? 0 : 1;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Runs one step and reports it; false when it failed.</summary>
    private static bool Step(int fd, string name, Func<string> step)
    {
        var watch = Stopwatch.StartNew();
        string status;
        string detail;
        try
        {
            detail = step();
            status = "ok";
        }
        catch (Exception e)
        {
            detail = e.Message;
            status = "fail";
        }
        long micros = watch.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;
        byte[] line = Encoding.UTF8.GetBytes($"{name}\t{status}\t{micros}\t{detail.Replace('\n', ' ').Replace('\t', ' ')}\n");
        fixed (byte* data = line)
        {
            Libc.Write(fd, data, line.Length);
        }
        return status == "ok";
    }

    /// <summary>
    /// An ARP request of our own on a packet socket (packet(7)), so that the step shows the
    /// gateway's answer rather than the kernel's neighbour cache.
    /// </summary>
    private static MacAddress ResolveArp(MacAddress mac, Ipv4Address self, Ipv4Address gateway)
    {
        ushort protocol = BinaryPrimitives.ReverseEndianness(EthernetTypeArp);
        int fd = Libc.Socket(Libc.AF_PACKET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            throw Errno.Exception("packet socket");
        }
        try
        {
            var link = new LinkAddress { Family = Libc.AF_PACKET, Protocol = protocol, Index = RouteNetlink.IndexOf(Tap), Length = MacAddress.Length };
            if (Libc.Bind(fd, &link, sizeof(LinkAddress)) < 0)
            {
                throw Errno.Exception($"bind to {Tap}");
            }
            SetReceiveTimeout(fd, TimeSpan.FromMilliseconds(250));
            MacAddress.Broadcast.Write(new Span<byte>(link.Address, 8));
            byte* request = stackalloc byte[ArpPacket.Length];
            ArpPacket.Write(new Span<byte>(request, ArpPacket.Length), ArpOperation.Request, mac, self, MacAddress.Zero, gateway);
            byte* reply = stackalloc byte[1500];
            var deadline = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                if (Libc.SendTo(fd, request, ArpPacket.Length, 0, &link, sizeof(LinkAddress)) < 0)
                {
                    throw Errno.Exception("send the ARP request");
                }
                nint n;
                while ((n = Libc.Recv(fd, reply, 1500, 0)) > 0)
                {
                    if (ArpPacket.TryParse(new Span<byte>(reply, (int)n), out var arp)
                        && arp.Operation == ArpOperation.Reply && arp.SenderProtocol == gateway)
                    {
                        return arp.SenderHardware;
                    }
                }
            }
            throw new TimeoutException($"no ARP reply from {gateway} within {StepTimeout.TotalSeconds:0} s");
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>An ICMP echo through a raw socket (as root of the namespace); the reply must come from the target with our identifier.</summary>
    private static string Ping(Ipv4Address target)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp) { ReceiveTimeout = 250 };
        ushort identifier = (ushort)Random.Shared.Next(1, ushort.MaxValue);
        byte[] echo = new byte[IcmpV4Message.HeaderLength + 16];
        echo[0] = IcmpV4Type.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(4), identifier);
        "usernet doctor\0\0"u8.CopyTo(echo.AsSpan(IcmpV4Message.HeaderLength));
        var to = new IPEndPoint(((IpAddress)target).ToIPAddress(), 0);
        byte[] buffer = new byte[1500];
        var deadline = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        for (ushort sequence = 1; Stopwatch.GetTimestamp() < deadline; sequence++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(6), sequence);
            BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), 0);
            BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), InternetChecksum.Compute(echo));
            socket.SendTo(echo, to);
            try
            {
                while (true)
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    int n = socket.ReceiveFrom(buffer, ref from);
                    int header = (buffer[0] & 0xF) * 4;
                    if (n >= header + IcmpV4Message.HeaderLength && ((IPEndPoint)from).Address.Equals(to.Address)
                        && buffer[header] == IcmpV4Type.EchoReply
                        && BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(header + 4)) == identifier)
                    {
                        return $"{target} answers";
                    }
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // Send again.
            }
        }
        throw new TimeoutException($"no echo reply from {target} within {StepTimeout.TotalSeconds:0} s");
    }

    /// <summary>host.docker.internal is one of Usernet's own names: answered on the gateway, never forwarded.</summary>
    private static string QueryHostName(Ipv4Address gateway, Ipv4Address host)
    {
        byte[] name = DnsName.Encode("host.docker.internal");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 500 };
        socket.Connect(new IPEndPoint(((IpAddress)gateway).ToIPAddress(), DnsServer.Port));
        byte[] buffer = new byte[1500];
        var deadline = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            ushort id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
            socket.Send(DnsForwarder.BuildQuery(id, name, DnsType.A, edns: false));
            int n;
            try
            {
                n = socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                continue;
            }
            var response = buffer.AsSpan(0, n);
            if (!DnsForwarder.Matches(response, id, name, DnsType.A))
            {
                continue;
            }
            int offset = DnsMessage.HeaderLength + name.Length + 4;
            if (new DnsMessage(response).AnswerCount == 0 || !DnsRecord.TryRead(response, offset, out var record)
                || record.Type != DnsType.A || record.DataLength != Ipv4Address.Length)
            {
                throw new InvalidOperationException($"host.docker.internal: no A record (rcode {new DnsMessage(response).ResponseCode})");
            }
            var address = Ipv4Address.Read(response[record.DataOffset..]);
            if (address != host)
            {
                throw new InvalidOperationException($"host.docker.internal is {address}, not the host address {host}");
            }
            return $"host.docker.internal is {address}";
        }
        throw new TimeoutException($"no DNS answer from {gateway} within {StepTimeout.TotalSeconds:0} s");
    }

    /// <summary>Sends a token through the host address to the doctor's listener, which sends it back.</summary>
    private static string RoundTrip(Ipv4Address host, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)StepTimeout.TotalMilliseconds,
            SendTimeout = (int)StepTimeout.TotalMilliseconds,
        };
        var endpoint = new IPEndPoint(((IpAddress)host).ToIPAddress(), port);
        if (!socket.ConnectAsync(endpoint).Wait(StepTimeout))
        {
            throw new TimeoutException($"connect to {endpoint} did not finish within {StepTimeout.TotalSeconds:0} s");
        }
        byte[] token = Encoding.ASCII.GetBytes($"usernet doctor {Guid.NewGuid():N}");
        socket.Send(token);
        socket.Shutdown(SocketShutdown.Send);
        byte[] echoed = new byte[token.Length + 1];
        int filled = 0;
        int n;
        while (filled < echoed.Length && (n = socket.Receive(echoed, filled, echoed.Length - filled, SocketFlags.None)) > 0)
        {
            filled += n;
        }
        if (!echoed.AsSpan(0, filled).SequenceEqual(token))
        {
            throw new InvalidOperationException($"{endpoint} sent back {filled} bytes that are not the {token.Length} sent");
        }
        return $"{token.Length} bytes to 127.0.0.1:{port} through {endpoint} and back";
    }

    private static void SetReceiveTimeout(int fd, TimeSpan timeout)
    {
        long* timeval = stackalloc long[2];
        timeval[0] = (long)timeout.TotalSeconds;
        timeval[1] = timeout.Milliseconds * 1000L;
        Libc.SetSockOpt(fd, Libc.SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
    }

    /// <summary>struct sockaddr_ll (packet(7)).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LinkAddress
    {
        public ushort Family;
        public ushort Protocol;
        public int Index;
        public ushort HardwareType;
        public byte PacketType;
        public byte Length;
        public fixed byte Address[8];
    }
}
