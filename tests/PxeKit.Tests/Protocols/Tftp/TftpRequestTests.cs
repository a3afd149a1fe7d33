using PxeKit.Protocols.Tftp;

namespace PxeKit.Tests.Protocols.Tftp;

public class TftpRequestTests
{
    private static byte[] Bytes(params object[] parts)
    {
        var list = new List<byte>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case string s: list.AddRange(System.Text.Encoding.Latin1.GetBytes(s)); break;
                case byte[] b: list.AddRange(b); break;
                case int i: list.Add((byte)i); break;
            }
        }
        return [.. list];
    }

    [Fact]
    public void Rrq_with_all_options_parses()
    {
        var ok = TftpRequest.TryParse(
            Bytes(0, 1, "\\Boot\\BCD", 0, "OCTET", 0, "blksize", 0, "1468", 0, "tsize", 0, "0", 0, "timeout", 0, "3", 0, "WindowSize", 0, "16", 0),
            out var request, out _, out var error);

        Assert.True(ok, error);
        Assert.Equal("\\Boot\\BCD", request!.FileName);
        Assert.Equal(TftpTransferMode.Octet, request.Mode);
        Assert.Equal(1468, request.BlockSize);
        Assert.Equal(0, request.TransferSize);
        Assert.Equal(3, request.TimeoutSeconds);
        Assert.Equal(16, request.WindowSize);
    }

    [Fact]
    public void Unterminated_file_name_is_refused()
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, "pxelinux.0"), out _, out _, out var error));
        Assert.Contains("not NUL-terminated", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unterminated_mode_is_refused()
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, "a", 0, "octet"), out _, out _, out _));
    }

    [Fact]
    public void Unterminated_option_value_is_ignored_not_read_past_the_datagram()
    {
        // atftpd CVE-2021-46671 (T9): "blksize\0" + "5555" without its NUL.
        Assert.True(TftpRequest.TryParse(Bytes(0, 1, "a", 0, "octet", 0, "blksize", 0, "5555"), out var request, out _, out _));
        Assert.Null(request!.BlockSize);
    }

    [Fact]
    public void Zero_padding_after_the_options_is_ignored()
    {
        // HP PA-RISC ROMs pad the RRQ to 512 bytes (T12).
        var padded = Bytes(0, 1, "a", 0, "octet", 0, "blksize", 0, "1024", 0, new byte[480]);
        Assert.True(TftpRequest.TryParse(padded, out var request, out _, out _));
        Assert.Equal(1024, request!.BlockSize);
    }

    [Fact]
    public void Repeated_option_keeps_the_first_value()
    {
        Assert.True(TftpRequest.TryParse(Bytes(0, 1, "a", 0, "octet", 0, "blksize", 0, "1024", 0, "blksize", 0, "8", 0), out var request, out _, out _));
        Assert.Equal(1024, request!.BlockSize);
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("-1", null)]
    [InlineData("", null)]
    [InlineData("99999999999", 99999999999L)]
    [InlineData("999999999999999999999999999999", long.MaxValue)]
    public void Option_values_are_numbers_or_absent(string value, long? expected)
    {
        Assert.True(TftpRequest.TryParse(Bytes(0, 1, "a", 0, "octet", 0, "blksize", 0, value, 0), out var request, out _, out _));
        Assert.Equal(expected, request!.BlockSize);
    }

    [Fact]
    public void More_than_sixteen_options_are_refused()
    {
        var parts = new List<object> { 0, 1, "a", 0, "octet", 0 };
        for (var i = 0; i < 17; i++)
            parts.AddRange(["x" + i, 0, "1", 0]);
        Assert.False(TftpRequest.TryParse(Bytes([.. parts]), out _, out var code, out _));
        Assert.Equal(TftpErrorCode.OptionNegotiationFailed, code);
    }

    [Fact]
    public void Long_file_name_is_refused()
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, new string('A', 600), 0, "octet", 0), out _, out _, out var error));
        Assert.Contains("longer than 512", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_mode_is_refused()
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, "a", 0, new string('o', 300), 0), out _, out _, out _));
    }

    [Theory]
    [InlineData("mail")]
    [InlineData("binary")]
    public void Unsupported_mode_is_refused(string mode)
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, "a", 0, mode, 0), out _, out var code, out _));
        Assert.Equal(TftpErrorCode.IllegalOperation, code);
    }

    [Fact]
    public void Control_byte_in_the_name_is_refused_with_file_not_found()
    {
        // SolarWinds TFTP CVE-2010-2115: 00 01 01 00 "netascii" 00 (T7).
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, 1, 0, "netascii", 0), out _, out var code, out _));
        Assert.Equal(TftpErrorCode.FileNotFound, code);
    }

    [Fact]
    public void Overlong_utf8_dot_is_refused()
    {
        Assert.False(TftpRequest.TryParse(Bytes(0, 1, new byte[] { 0xC0, 0xAE, 0xC0, 0xAE }, "/etc/passwd", 0, "octet", 0), out _, out _, out var error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Printable_replaces_control_characters()
    {
        Assert.Equal("a?[b?", TftpRequest.Printable("a\x1b[b\n"u8));
    }
}

public class TftpNegotiationTests
{
    private static TftpRequest Request(long? blksize = null, long? tsize = null, long? timeout = null, long? window = null) => new()
    {
        Opcode = TftpOpcode.ReadRequest, FileName = "f", Mode = TftpTransferMode.Octet,
        BlockSize = blksize, TransferSize = tsize, TimeoutSeconds = timeout, WindowSize = window,
    };

    [Theory]
    [InlineData(7L, 512, false)]
    [InlineData(8L, 8, true)]
    [InlineData(1468L, 1468, true)]
    [InlineData(65465L, 1468, true)]
    [InlineData(long.MaxValue, 1468, true)]
    public void Block_size_is_validated_and_clamped(long asked, int granted, bool acknowledged)
    {
        var result = TftpNegotiation.Negotiate(Request(blksize: asked), 100, maxBlockSize: 1468, maxWindowSize: 64, defaultTimeoutSeconds: 1);
        Assert.Equal(granted, result.BlockSize);
        Assert.Equal(acknowledged, result.BlockSizeGranted);
    }

    [Theory]
    [InlineData(0L, false)]
    [InlineData(1L, true)]
    [InlineData(255L, true)]
    [InlineData(256L, false)]
    public void Timeout_outside_1_to_255_is_not_acknowledged(long asked, bool acknowledged) =>
        Assert.Equal(acknowledged, TftpNegotiation.Negotiate(Request(timeout: asked), 1, 1468, 64, 1).TimeoutGranted);

    [Theory]
    [InlineData(0L, 1, false)]
    [InlineData(16L, 16, true)]
    [InlineData(65536L, 64, true)]
    public void Window_size_is_validated_and_clamped(long asked, int granted, bool acknowledged)
    {
        var result = TftpNegotiation.Negotiate(Request(window: asked), 1, 1468, 64, 1);
        Assert.Equal(granted, result.WindowSize);
        Assert.Equal(acknowledged, result.WindowSizeGranted);
    }

    [Fact]
    public void Tsize_answers_the_real_size_whatever_the_client_sent()
    {
        // tftp-hpa echoes the client's 12345 for a 3000-byte file (T25).
        Assert.Equal(3000, TftpNegotiation.Negotiate(Request(tsize: 12345), 3000, 1468, 64, 1).TransferSize);
    }

    [Fact]
    public void Tsize_is_not_offered_when_the_size_is_unknown()
    {
        Assert.Null(TftpNegotiation.Negotiate(Request(tsize: 0), null, 1468, 64, 1).TransferSize);
    }

    [Fact]
    public void Oack_names_each_granted_option_once()
    {
        var granted = TftpNegotiation.Negotiate(Request(blksize: 1468, tsize: 0, window: 16), 5_000_000_000, 1468, 64, 1);
        var buffer = new byte[TftpPacket.MaxOptionAcknowledgementLength];
        var length = TftpPacket.WriteOptionAcknowledgement(buffer, granted);
        Assert.Equal("\0\u0006blksize\01468\0tsize\05000000000\0windowsize\016\0", System.Text.Encoding.ASCII.GetString(buffer, 0, length));
    }

    [Fact]
    public void Error_packet_length_is_what_was_written_and_long_messages_are_cut()
    {
        var buffer = new byte[512];
        var length = TftpPacket.WriteError(buffer, TftpErrorCode.FileNotFound, new string('x', 5000) + "\n");
        Assert.Equal(4 + TftpPacket.MaxErrorMessageBytes + 1, length);
        Assert.Equal(0, buffer[length - 1]);
    }

    [Theory]
    [InlineData(new byte[] { 0, 5 }, "malformed ERROR without a code")]
    [InlineData(new byte[] { 0, 5, 0, 8 }, "code 8")]
    [InlineData(new byte[] { 0, 5, 0, 1, 65, 10, 66 }, "code 1 'A?B'")]
    public void Received_errors_are_described_safely(byte[] datagram, string expected) =>
        Assert.Equal(expected, TftpPacket.DescribeError(datagram));
}
