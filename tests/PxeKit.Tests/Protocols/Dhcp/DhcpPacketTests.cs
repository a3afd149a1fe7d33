using System.Net;
using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

public class DhcpPacketTests
{
    [Fact]
    public void Round_trip_keeps_every_field_and_option()
    {
        var packet = new DhcpPacket
        {
            Op = DhcpOp.BootReply,
            Hops = 2,
            TransactionId = 0xdeadbeef,
            Seconds = 7,
            Flags = DhcpLimits.BroadcastFlag,
            ClientAddress = IPAddress.Parse("192.0.2.9"),
            YourAddress = IPAddress.Parse("192.0.2.10"),
            ServerAddress = IPAddress.Parse("192.0.2.1"),
            RelayAddress = IPAddress.Parse("198.51.100.1"),
            ClientHardwareAddress = Chaddr(Mac),
            ServerName = "pxekit",
            File = "undionly.kpxe",
            Options =
            [
                new(DhcpOptionCode.MessageType, [(byte)DhcpMessageType.Offer]),
                Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1"),
                new(DhcpOptionCode.VendorSpecific, new byte[300]), // split into two instances, joined on parse (RFC 3396)
            ],
        };
        var bytes = Encode(packet);
        Assert.Equal(packet.GetEncodedLength(), bytes.Length);
        var parsed = Parse(bytes);
        Assert.Equal(packet.Op, parsed.Op);
        Assert.Equal(packet.Hops, parsed.Hops);
        Assert.Equal(packet.TransactionId, parsed.TransactionId);
        Assert.Equal(packet.Seconds, parsed.Seconds);
        Assert.True(parsed.IsBroadcast);
        Assert.Equal(packet.ClientAddress, parsed.ClientAddress);
        Assert.Equal(packet.YourAddress, parsed.YourAddress);
        Assert.Equal(packet.ServerAddress, parsed.ServerAddress);
        Assert.Equal(packet.RelayAddress, parsed.RelayAddress);
        Assert.Equal("52:54:00:12:34:56", parsed.HardwareAddressText);
        Assert.Equal("pxekit", parsed.ServerName);
        Assert.Equal("undionly.kpxe", parsed.File);
        Assert.Equal(DhcpMessageType.Offer, parsed.MessageType);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), parsed.GetAddress(DhcpOptionCode.ServerIdentifier));
        Assert.True(parsed.TryGetOption(DhcpOptionCode.VendorSpecific, out var v43));
        Assert.Equal(300, v43.Length);
        Assert.Null(parsed.Anomaly);
    }

    [Fact]
    public void Short_replies_are_padded_to_the_bootp_minimum()
    {
        var bytes = Encode(Request(DhcpMessageType.Discover));
        Assert.Equal(DhcpPacket.MinEncodedLength, bytes.Length);
    }

    [Theory] // D1
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(239)]
    public void D1_datagram_shorter_than_the_header_is_refused_with_its_length(int length)
    {
        Assert.False(DhcpPacket.TryParse(new byte[length], out _, out var error));
        Assert.Contains($"{length} bytes", error);
    }

    [Fact] // D1
    public void D1_bootp_without_magic_cookie_is_refused()
    {
        var bytes = Raw(255);
        bytes[DhcpOffsets.MagicCookie] = 0;
        Assert.False(DhcpPacket.TryParse(bytes, out _, out var error));
        Assert.Contains("magic cookie", error);
    }

    [Theory] // D2
    [InlineData(17)]
    [InlineData(255)]
    public void D2_hlen_beyond_chaddr_is_refused(byte hlen)
    {
        var bytes = Raw(255);
        bytes[DhcpOffsets.HardwareLength] = hlen;
        Assert.False(DhcpPacket.TryParse(bytes, out _, out var error));
        Assert.Contains($"hlen {hlen}", error);
    }

    [Fact] // D2
    public void D2_unknown_op_is_refused()
    {
        var bytes = Raw(255);
        bytes[DhcpOffsets.Op] = 3;
        Assert.False(DhcpPacket.TryParse(bytes, out _, out var error));
        Assert.Contains("op 3", error);
    }

    [Fact] // D3
    public void D3_option_length_past_the_end_is_refused_with_numbers()
    {
        Assert.False(DhcpPacket.TryParse(Raw(53, 1, 1, 93, 4, 0), out _, out var error));
        Assert.Equal("option 93 claims 4 bytes, 1 remain in the options field", error);
    }

    [Fact] // D3
    public void D3_option_code_without_length_byte_is_refused()
    {
        Assert.False(DhcpPacket.TryParse(Raw(53, 1, 1, 60), out _, out var error));
        Assert.Contains("no length byte", error);
    }

    [Fact] // D3: firmware that omits End, and padding after End
    public void Missing_end_and_junk_after_end_are_tolerated()
    {
        Assert.Equal(DhcpMessageType.Discover, Parse(Raw(53, 1, 1)).MessageType);
        Assert.Equal(DhcpMessageType.Discover, Parse(Raw(53, 1, 1, 255, 93, 200, 1)).MessageType);
    }

    [Fact] // D4
    public void D4_overload_reads_file_then_sname_and_never_recurses()
    {
        var bytes = Raw(53, 1, 1, 52, 1, 3, 255);
        // file: option 60 then a nested option 52 (must be ignored); sname: option 93
        byte[] file = [60, 9, .. "PXEClient"u8, 52, 1, 3, 255];
        file.CopyTo(bytes, DhcpOffsets.File);
        byte[] sname = [93, 2, 0, 7, 255];
        sname.CopyTo(bytes, DhcpOffsets.ServerName);
        var packet = Parse(bytes);
        Assert.Equal("PXEClient", packet.GetText(DhcpOptionCode.VendorClassIdentifier));
        Assert.Equal((ushort?)7, packet.GetUInt16(DhcpOptionCode.ClientSystemArchitecture));
        Assert.Equal("", packet.File);
        Assert.Equal("", packet.ServerName);
        Assert.Contains("option 52 inside the file field", packet.Anomaly);
    }

    [Fact] // D4
    public void D4_overloaded_field_that_overruns_is_refused()
    {
        var bytes = Raw(53, 1, 1, 52, 1, 2, 255);
        bytes[DhcpOffsets.ServerName + 62] = 60;
        bytes[DhcpOffsets.ServerName + 63] = 10;
        Assert.False(DhcpPacket.TryParse(bytes, out _, out var error));
        Assert.Contains("sname field", error);
    }

    [Theory] // per-option lengths
    [InlineData(53, 2)]
    [InlineData(50, 3)]
    [InlineData(54, 5)]
    [InlineData(57, 1)]
    [InlineData(51, 0)]
    public void Fixed_length_options_with_the_wrong_length_are_set_aside(byte code, byte length)
    {
        var options = new List<byte> { code, length };
        options.AddRange(new byte[length]);
        options.Add(255);
        var packet = Parse(Raw([.. options]));
        Assert.False(packet.HasOption((DhcpOptionCode)code));
        Assert.Contains($"option {code} has {length} bytes", packet.Anomaly);
    }

    [Theory] // D6
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(255, true)]
    public void D6_client_identifier_needs_type_and_one_byte(int length, bool kept)
    {
        var options = new List<byte> { 53, 1, 1, 61, (byte)length };
        options.AddRange(new byte[length]);
        options.Add(255);
        var packet = Parse(Raw([.. options]));
        Assert.Equal(kept, packet.HasOption(DhcpOptionCode.ClientIdentifier));
    }

    [Theory] // D7
    [InlineData("", null)]
    [InlineData("\0\r\n", null)]
    [InlineData("../..", null)]
    [InlineData("host\r\nname", "hostname")]
    [InlineData("pc-01.lab", "pc-01.lab")]
    public void D7_host_names_are_sanitised_and_dropped_when_empty(string raw, string? expected)
    {
        Assert.Equal(expected, DhcpText.SanitizeHostName(System.Text.Encoding.Latin1.GetBytes(raw)));
    }

    [Fact] // D7
    public void D7_long_host_name_is_cut_to_63()
    {
        Assert.Equal(63, DhcpText.SanitizeHostName(new byte[255].Select(_ => (byte)'a').ToArray())!.Length);
    }

    [Theory] // D9
    [InlineData(0, 548)]
    [InlineData(300, 548)]
    [InlineData(576, 548)]
    [InlineData(1500, 1472)]
    [InlineData(65535, 1472)]
    public void D9_max_message_size_is_clamped(int announced, int expected)
    {
        var packet = Request(DhcpMessageType.Discover, options: new DhcpOption(DhcpOptionCode.MaxMessageSize, [(byte)(announced >> 8), (byte)announced]));
        Assert.Equal(expected, Parse(Encode(packet)).MaxReplyLength);
    }

    [Fact]
    public void Repeated_options_are_concatenated_but_capped()
    {
        var bytes = new List<byte> { 53, 1, 1 };
        for (var i = 0; i < 6; i++)
        {
            bytes.Add(43);
            bytes.Add(200);
            bytes.AddRange(new byte[200]);
        }
        var packet = Parse(Raw([.. bytes]));
        Assert.True(packet.TryGetOption(DhcpOptionCode.VendorSpecific, out var v));
        Assert.Equal(1000, v.Length);
        Assert.Contains("beyond 1024", packet.Anomaly);
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(42);
        var buffer = new byte[600];
        for (var i = 0; i < 20000; i++)
        {
            var template = Raw();
            template.CopyTo(buffer, 0);
            random.NextBytes(buffer.AsSpan(DhcpOffsets.Options, random.Next(0, 360)));
            if (random.Next(4) == 0)
                random.NextBytes(buffer.AsSpan(0, DhcpOffsets.Options));
            var length = random.Next(0, buffer.Length);
            if (DhcpPacket.TryParse(buffer.AsSpan(0, length), out var packet, out _))
            {
                _ = PxeClientInfo.From(packet!);
                _ = packet!.MaxReplyLength;
                _ = packet.HardwareAddressText;
            }
        }
    }
}
