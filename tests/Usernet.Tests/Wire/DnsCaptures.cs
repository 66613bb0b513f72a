namespace Usernet.Tests.Wire;

/// <summary>
/// DNS messages real programs sent: queries of dig 9.18 (EDNS with a cookie, as it sends them by
/// default) caught on a UDP socket, and dnsmasq 2.90's answers to them (--local=/test/,
/// --mx-host, --srv-host, a 3,000-byte --txt-record). Each property returns a fresh array.
/// </summary>
internal static class DnsCaptures
{
    /// <summary>`dig host.docker.internal`: ID 0x17cb, RD and AD, EDNS 1232 with a cookie.</summary>
    public static byte[] DigA => Hex("17cb0120000100000000000104686f737406646f636b657208696e7465726e616c000001000100002904d000000000000c000a000888c8dca092abeaf2");

    /// <summary>`dig AAAA host.docker.internal`.</summary>
    public static byte[] DigAaaa => Hex("b2890120000100000000000104686f737406646f636b657208696e7465726e616c00001c000100002904d000000000000c000a00082748f4053da97317");

    /// <summary>`dig MX mail.test`.</summary>
    public static byte[] DigMx => Hex("30f701200001000000000001046d61696c047465737400000f000100002904d000000000000c000a0008f446b892b95bb8af");

    /// <summary>dnsmasq's answer to <see cref="DigMx"/>: 10 mx1.test, the exchange's name compressed against the question's.</summary>
    public static byte[] DnsmasqMx => Hex("30f785800001000100000001046d61696c047465737400000f0001c00c000f000100000000000c000a036d783104746573740000002904d0000000000000");

    /// <summary>`dig nosuch.test`.</summary>
    public static byte[] DigNx => Hex("110401200001000000000001066e6f737563680474657374000001000100002904d000000000000c000a00089f80b3da134b8e12");

    /// <summary>dnsmasq's NXDOMAIN for <see cref="DigNx"/>: no SOA.</summary>
    public static byte[] DnsmasqNx => Hex("110481830001000000000001066e6f737563680474657374000001000100002904d0000000000000");

    /// <summary>`dig TXT big.test`.</summary>
    public static byte[] DigBigTxt => Hex("379b01200001000000000001036269670474657374000010000100002904d000000000000c000a0008a81cf81893210cd7");

    /// <summary>dnsmasq's UDP answer to <see cref="DigBigTxt"/>: the TXT does not fit 1232 bytes, so TC and no records.</summary>
    public static byte[] DnsmasqBigTxtTruncated => Hex("379b87800001000000000001036269670474657374000010000100002904d0000000000000");

    /// <summary>dnsmasq's answer to `dig SRV _http._tcp.svc.test`: 0 0 80 web.test.</summary>
    public static byte[] DnsmasqSrv => Hex("401785800001000100000001055f68747470045f7463700373766304746573740000210001c00c002100010000000000100000000000500377656204746573740000002904d0000000000000");

    private static byte[] Hex(string text) => Convert.FromHexString(text);
}
