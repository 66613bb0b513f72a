using System.Buffers.Binary;

namespace Usernet.Tests.Support;

/// <summary>The options of a guest's SYN, laid out as Linux lays them out.</summary>
internal static class TcpSynOptionBytes
{
    private const byte Nop = 1;
    private const byte Mss = 2;
    private const byte WindowScale = 3;
    private const byte SackPermitted = 4;
    private const byte Timestamps = 8;

    /// <summary>
    /// MSS, SACK-permitted, timestamps and window scale (Linux's 20 bytes by default); each may
    /// be left out, and NOPs pad the rest to a multiple of four.
    /// </summary>
    public static byte[] Build(ushort? mss = 1460, bool sackPermitted = true, bool timestamps = true, byte? windowScale = 7)
    {
        var options = new List<byte>();
        if (mss is { } size)
        {
            options.AddRange([Mss, 4, (byte)(size >> 8), (byte)size]);
        }
        if (sackPermitted)
        {
            options.AddRange(timestamps ? [SackPermitted, 2] : [Nop, Nop, SackPermitted, 2]);
        }
        if (timestamps)
        {
            if (!sackPermitted)
            {
                options.AddRange([Nop, Nop]);
            }
            byte[] values = new byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(values, 0x01020304);
            options.AddRange([Timestamps, 10, .. values]);
        }
        if (windowScale is { } shift)
        {
            options.AddRange([Nop, WindowScale, 3, shift]);
        }
        while (options.Count % 4 != 0)
        {
            options.Add(Nop);
        }
        return options.ToArray();
    }
}
