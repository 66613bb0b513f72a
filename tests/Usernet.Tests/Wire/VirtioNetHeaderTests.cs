using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class VirtioNetHeaderTests
{
    [Fact]
    public void APartialChecksumHeaderReadsAsTheKernelWroteIt()
    {
        // What a TAP with IFF_VNET_HDR and TUN_F_CSUM gives for a TCP segment over IPv4:
        // NEEDS_CSUM, no GSO, hdr_len 66, checksum from byte 34 (the TCP header), field at +16.
        byte[] bytes = [0x01, 0x00, 0x42, 0x00, 0x00, 0x00, 0x22, 0x00, 0x10, 0x00];
        var header = new VirtioNetHeader(bytes);
        Assert.Equal(VirtioNetHeader.NeedsChecksum, header.Flags);
        Assert.Equal(VirtioNetHeader.GsoNone, header.GsoType);
        Assert.Equal(34, header.ChecksumStart);
        Assert.Equal(16, header.ChecksumOffset);
    }

    [Fact]
    public void ThePositionsAreLittleEndian()
    {
        byte[] bytes = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34, 0x12, 0x02, 0x01];
        var header = new VirtioNetHeader(bytes);
        Assert.Equal(0x1234, header.ChecksumStart);
        Assert.Equal(0x0102, header.ChecksumOffset);
    }

    [Fact]
    public void APlainHeaderSaysNothing()
    {
        byte[] bytes = Enumerable.Repeat((byte)0xAA, VirtioNetHeader.Length + 2).ToArray();
        VirtioNetHeader.WritePlain(bytes);
        Assert.All(bytes[..VirtioNetHeader.Length], b => Assert.Equal(0, b));
        Assert.Equal(0xAA, bytes[VirtioNetHeader.Length]);
        Assert.Equal(0, new VirtioNetHeader(bytes).Flags);
    }

    [Fact]
    public void AHeaderShorterThanTenBytesIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = new VirtioNetHeader(new byte[9]); });
}
