using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class DnsMessageTests
{
    [Fact]
    public void ReadsTheHeaderOfCapturedResponsesFromReadOnlyBytes()
    {
        ReadOnlySpan<byte> srv = DnsCaptures.DnsmasqSrv;
        Assert.True(DnsMessage.TryParse(srv, out var header));
        Assert.Equal(0x4017, header.Id);
        Assert.True(header.IsResponse);
        Assert.True(header.RecursionDesired);
        Assert.False(header.Truncated);
        Assert.Equal(0, header.Opcode);
        Assert.Equal(DnsResponseCode.NoError, header.ResponseCode);
        Assert.Equal(1, header.QuestionCount);
        Assert.Equal(1, header.AnswerCount);
        Assert.Equal(0, header.AuthorityCount);
        Assert.Equal(1, header.AdditionalCount);

        Assert.True(DnsMessage.TryParse(DnsCaptures.DnsmasqNx, out var nx));
        Assert.Equal(DnsResponseCode.NameError, nx.ResponseCode);
        Assert.Equal(0, nx.AnswerCount);

        Assert.True(DnsMessage.TryParse(DnsCaptures.DnsmasqBigTxtTruncated, out var truncated));
        Assert.True(truncated.Truncated);
    }

    [Fact]
    public void AQueryIsNoResponse()
    {
        Assert.True(DnsMessage.TryParse(DnsCaptures.DigA, out var query));
        Assert.False(query.IsResponse);
        Assert.Equal(0x17cb, query.Id);
    }

    [Fact]
    public void FewerBytesThanAHeaderAreRefused() =>
        Assert.False(DnsMessage.TryParse(DnsCaptures.DigA.AsSpan(0, DnsMessage.HeaderLength - 1), out _));

    [Fact]
    public void WhatWriteHeaderWritesReadsBack()
    {
        byte[] buffer = new byte[DnsMessage.HeaderLength];
        DnsMessage.WriteHeader(buffer, 0xBEEF, DnsMessage.FlagResponse | DnsMessage.FlagTruncated | DnsResponseCode.Refused, 1, 2, 3, 4);
        var header = new DnsMessage(buffer);
        Assert.Equal(0xBEEF, header.Id);
        Assert.True(header.IsResponse);
        Assert.True(header.Truncated);
        Assert.Equal(DnsResponseCode.Refused, header.ResponseCode);
        Assert.Equal([1, 2, 3, 4], new[] { header.QuestionCount, header.AnswerCount, header.AuthorityCount, header.AdditionalCount });
    }
}
