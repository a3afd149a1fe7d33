using System.Net;
using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

public class ProxyDhcpTests
{
    [Fact]
    public async Task Pxe_discover_gets_a_proxy_offer_with_boot_file_and_no_address()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        byte[] uuid = [0, .. Enumerable.Range(1, 16).Select(i => (byte)i)];
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(7), Arch(7), new(DhcpOptionCode.ClientMachineIdentifier, uuid)]));
        var offer = (await h.BroadcastReplyAsync())!;
        Assert.Equal(DhcpMessageType.Offer, offer.MessageType);
        Assert.Equal(IPAddress.Any, offer.YourAddress);
        Assert.Equal(DhcpHarness.ServerAddress, offer.ServerAddress);
        Assert.Equal("ipxe.efi", offer.File);
        Assert.Equal("PXEClient", offer.GetText(DhcpOptionCode.VendorClassIdentifier));
        Assert.True(offer.TryGetOption(DhcpOptionCode.VendorSpecific, out var v43));
        Assert.Equal(new byte[] { 6, 1, 8, 255 }, v43);
        Assert.Equal("192.0.2.1", offer.GetText(DhcpOptionCode.TftpServerName));
        Assert.Equal("ipxe.efi", offer.GetText(DhcpOptionCode.BootFileName));
        Assert.True(offer.TryGetOption(DhcpOptionCode.ClientMachineIdentifier, out var v97));
        Assert.Equal(uuid, v97);
        Assert.Equal(DhcpHarness.ServerAddress, offer.GetAddress(DhcpOptionCode.ServerIdentifier));
        Assert.Null(offer.GetUInt32(DhcpOptionCode.LeaseTime));
        Assert.Equal(0x1234abcdu, offer.TransactionId);
    }

    [Fact] // D11
    public async Task D11_non_pxe_clients_get_silence_and_the_next_client_is_served()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        h.Send(Request(DhcpMessageType.Discover, options: Text(DhcpOptionCode.VendorClassIdentifier, "MSFT 5.0")));
        h.Send(Request(DhcpMessageType.Discover));
        await h.AssertSilentAsync();
        Assert.Equal(2, h.Logger.Lines.Count(l => l.Message.Contains("not a PXE or HTTP boot client")));
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0)]));
        Assert.Equal("undionly.kpxe", (await h.BroadcastReplyAsync())!.File);
    }

    [Fact] // D11
    public async Task D11_discover_with_requested_address_still_gets_no_yiaddr()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0), Address(DhcpOptionCode.RequestedIpAddress, "192.0.2.77")]));
        Assert.Equal(IPAddress.Any, (await h.BroadcastReplyAsync())!.YourAddress);
    }

    [Theory] // D11, D12: proxy never NAKs and leaves REQUESTs on 67 to the site's server
    [InlineData(DhcpMessageType.Request)]
    [InlineData(DhcpMessageType.Release)]
    [InlineData(DhcpMessageType.Decline)]
    [InlineData(DhcpMessageType.Inform)]
    public async Task D12_proxy_is_silent_for_everything_but_discover_on_67(DhcpMessageType type)
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        h.Send(Request(type, options: [Pxe(0), Arch(0), Address(DhcpOptionCode.ServerIdentifier, "192.0.2.254"), Address(DhcpOptionCode.RequestedIpAddress, "192.0.2.77")]));
        await h.AssertSilentAsync();
    }

    [Fact] // D11: port 4011 answers the source address and port, even an odd one
    public async Task Boot_server_port_acks_to_the_source_port()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        using var client = h.Client("192.0.2.60", 2070);
        var request = Request(DhcpMessageType.Request, options: [Pxe(7), Arch(7)]);
        h.Send(new DhcpPacket
        {
            Op = request.Op, TransactionId = 9, ClientAddress = IPAddress.Parse("192.0.2.60"),
            ClientHardwareAddress = request.ClientHardwareAddress, Options = request.Options,
        }, DhcpHarness.Server4011, client);
        var ack = (await DhcpHarness.ReceiveAsync(client, DhcpHarness.Wait))!;
        Assert.Equal(DhcpMessageType.Ack, ack.MessageType);
        Assert.Equal("ipxe.efi", ack.File);
        Assert.Equal(IPAddress.Any, ack.YourAddress);
    }

    [Fact]
    public async Task Ipxe_gets_the_script_url_not_the_binary()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0), Text(DhcpOptionCode.UserClass, "iPXE")]));
        var offer = (await h.BroadcastReplyAsync())!;
        Assert.Equal("http://192.0.2.1:8080/boot.ipxe?mac=52:54:00:12:34:56", offer.GetText(DhcpOptionCode.BootFileName));
    }

    [Fact]
    public async Task Http_client_gets_httpclient_vendor_class_and_no_discovery_control()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy, boot: new HttpBoot());
        h.Send(Request(DhcpMessageType.Discover, options: [Text(DhcpOptionCode.VendorClassIdentifier, "HTTPClient:Arch:00016:UNDI:003001"), Arch(16)]));
        var offer = (await h.BroadcastReplyAsync())!;
        Assert.Equal("HTTPClient", offer.GetText(DhcpOptionCode.VendorClassIdentifier));
        Assert.False(offer.HasOption(DhcpOptionCode.VendorSpecific));
        Assert.Equal("http://192.0.2.1:8080/ipxe.efi", offer.GetText(DhcpOptionCode.BootFileName));
    }

    private sealed class HttpBoot : IDhcpBootPolicy
    {
        public DhcpBootChoice? Choose(DhcpBootRequest request) => new("http://192.0.2.1:8080/ipxe.efi");
    }

    [Fact] // D8
    public async Task Relayed_discover_is_answered_to_the_relay_with_option_82_last()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        using var relay = h.Client("198.51.100.1", 67);
        byte[] agent = [1, 3, (byte)'e', (byte)'t', (byte)'h', 2, 2, 0xAB, 0xCD];
        var request = Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0), new(DhcpOptionCode.RelayAgentInformation, agent)]);
        h.Send(new DhcpPacket
        {
            Op = request.Op, Hops = 1, TransactionId = 5, RelayAddress = IPAddress.Parse("198.51.100.1"),
            ClientHardwareAddress = request.ClientHardwareAddress, Options = request.Options,
        }, from: relay);
        var offer = (await DhcpHarness.ReceiveAsync(relay, DhcpHarness.Wait))!;
        Assert.Equal(IPAddress.Parse("198.51.100.1"), offer.RelayAddress);
        Assert.Equal((byte)DhcpOptionCode.RelayAgentInformation, offer.Options[^1].Code);
        Assert.Equal(agent, offer.Options[^1].Value);
    }

    [Theory] // D8
    [InlineData(false, new byte[] { 1, 2, 0, 0 }, "without a relay address")]
    [InlineData(true, new byte[] { 1, 9, 0, 0 }, "claims 9 bytes, 2 remain")]
    [InlineData(true, new byte[] { 1, 1, 0, 7 }, "has no length byte")]
    public async Task D8_bad_option_82_is_dropped_once_at_debug_and_the_next_client_is_served(bool relayed, byte[] agent, string reason)
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        var request = Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0), new(DhcpOptionCode.RelayAgentInformation, agent)]);
        h.Send(new DhcpPacket
        {
            Op = request.Op, RelayAddress = relayed ? IPAddress.Parse("198.51.100.1") : IPAddress.Any,
            ClientHardwareAddress = request.ClientHardwareAddress, Options = request.Options,
        });
        await h.AssertSilentAsync();
        Assert.Single(h.Logger.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Debug && l.Message.Contains(reason));
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0)]));
        Assert.NotNull(await h.BroadcastReplyAsync());
    }

    [Fact] // D8, D9: a reply that no longer fits after echoing 82 drops other options, never 82
    public async Task D9_reply_fits_the_smallest_max_message_size_with_82_kept()
    {
        var big = new string('x', 200);
        await using var h = new DhcpHarness(DhcpMode.Proxy, boot: new BigBoot(big));
        var request = Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0), new(DhcpOptionCode.MaxMessageSize, [0, 0]),
            new(DhcpOptionCode.RelayAgentInformation, [1, 250, .. new byte[250]])]);
        using var relay = h.Client("198.51.100.1", 67);
        h.Send(new DhcpPacket { Op = request.Op, RelayAddress = IPAddress.Parse("198.51.100.1"), ClientHardwareAddress = request.ClientHardwareAddress, Options = request.Options }, from: relay);
        var received = (await relay.ReceiveAsync(DhcpHarness.Wait))!.Value;
        Assert.True(received.Data.Length <= 548, $"{received.Data.Length} bytes");
        var offer = Parse(received.Data);
        Assert.Equal((byte)DhcpOptionCode.RelayAgentInformation, offer.Options[^1].Code);
    }

    private sealed class BigBoot(string name) : IDhcpBootPolicy
    {
        public DhcpBootChoice? Choose(DhcpBootRequest request) => new(name, null, name);
    }

    [Theory] // D1, D2, D3: garbage is dropped, logged once at debug, and the next client is served
    [InlineData("short")]
    [InlineData("cookie")]
    [InlineData("hlen")]
    [InlineData("htype0")]
    [InlineData("bootreply")]
    [InlineData("overrun")]
    [InlineData("no53")]
    public async Task Malformed_requests_are_dropped_and_the_next_client_is_served(string kind)
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        var bytes = Encode(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0)]));
        switch (kind)
        {
            case "short": bytes = bytes[..100]; break;
            case "cookie": bytes[DhcpOffsets.MagicCookie] = 0; break;
            case "hlen": bytes[DhcpOffsets.HardwareLength] = 20; break;
            case "htype0": bytes[DhcpOffsets.HardwareType] = 0; break;
            case "bootreply": bytes[DhcpOffsets.Op] = 2; break;
            case "overrun": bytes = Raw(53, 1, 1, 60, 200, 0); break;
            case "no53": bytes = Raw([60, 9, .. "PXEClient"u8.ToArray(), 255]); break;
        }
        h.SendRaw(bytes);
        await h.AssertSilentAsync();
        Assert.Single(h.Logger.Lines, l => l.Message.StartsWith("DHCP dropped", StringComparison.Ordinal));
        Assert.All(h.Logger.Lines.Where(l => l.Message.StartsWith("DHCP dropped", StringComparison.Ordinal)),
            l => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, l.Level));
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0)]));
        Assert.NotNull(await h.BroadcastReplyAsync());
    }
}

public class DhcpFuzzTests
{
    [Theory] // D17: the same robustness with every log level formatted (TestLogger formats debug lines too)
    [InlineData(DhcpMode.Proxy)]
    [InlineData(DhcpMode.Full)]
    public async Task D17_mutated_requests_with_debug_logging_never_stop_the_server(DhcpMode mode)
    {
        await using var h = new DhcpHarness(mode);
        var random = new Random(17);
        var valid = DhcpTestPackets.Encode(DhcpTestPackets.Request(DhcpMessageType.Discover, options:
            [DhcpTestPackets.Pxe(7), DhcpTestPackets.Arch(7), new(DhcpOptionCode.RelayAgentInformation, [1, 2, 3, 4]), new(DhcpOptionCode.UserClass, [4, .. "iPXE"u8.ToArray()])]));
        valid[DhcpOffsets.RelayAddress] = 198; // relayed, so option 82 is read
        for (var i = 0; i < 3000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
                bytes[random.Next(random.Next(2) == 0 ? DhcpOffsets.Options : 0, bytes.Length)] = (byte)random.Next(256);
            h.SendRaw(bytes[..random.Next(1, bytes.Length + 1)]);
        }
        // Drain whatever was answered, then a well-formed client is still served.
        while (await DhcpHarness.ReceiveAsync(h.Broadcast, TimeSpan.FromMilliseconds(200)) is not null)
        {
        }
        h.Send(DhcpTestPackets.Request(DhcpMessageType.Discover, [0x52, 0x54, 0, 9, 9, 9], options: [DhcpTestPackets.Pxe(0), DhcpTestPackets.Arch(0)]));
        var deadline = DateTime.UtcNow + DhcpHarness.Wait;
        DhcpPacket? reply;
        do
        {
            reply = await DhcpHarness.ReceiveAsync(h.Broadcast, DhcpHarness.Wait);
        }
        while (reply is not null && reply.HardwareAddressText != "52:54:00:09:09:09" && DateTime.UtcNow < deadline);
        Assert.NotNull(reply);
        Assert.DoesNotContain(h.Logger.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }
}
