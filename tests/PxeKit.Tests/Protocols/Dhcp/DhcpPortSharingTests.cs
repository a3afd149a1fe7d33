using System.Net;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

/// <summary>Port 67 when another DHCP server on this host holds it (issue 10): proxy mode shares it for broadcasts
/// or falls back to 4011 alone; full mode refuses.</summary>
public class DhcpPortSharingTests
{
    private static readonly IPEndPoint Broadcast67 = new(IPAddress.Broadcast, 67);

    [Fact]
    public async Task Proxy_mode_owns_port_67_when_nothing_else_holds_it()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy);
        Assert.Equal(DhcpPort67.Owned, h.Started.Port67);
        Assert.Contains(h.Started.LocalEndPoints, e => e.Equals(DhcpHarness.Server67));
    }

    [Fact]
    public async Task Proxy_mode_beside_a_server_that_shares_67_binds_the_broadcast_address_and_answers_pxe_discovers()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy, beforeStart: network => network.HoldPort(67, shareable: true));
        Assert.Equal(DhcpPort67.SharedForBroadcasts, h.Started.Port67);
        Assert.Equal([Broadcast67, DhcpHarness.Server4011], h.Started.LocalEndPoints);

        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(7), Arch(7)]), Broadcast67);
        var offer = (await h.BroadcastReplyAsync())!;
        Assert.Equal(DhcpMessageType.Offer, offer.MessageType);
        Assert.Equal("ipxe.efi", offer.File);
        Assert.Equal(IPAddress.Any, offer.YourAddress);
    }

    [Fact]
    public async Task Proxy_mode_beside_a_server_that_holds_67_exclusively_serves_4011_alone()
    {
        await using var h = new DhcpHarness(DhcpMode.Proxy, beforeStart: network => network.HoldPort(67, shareable: false));
        Assert.Equal(DhcpPort67.Unavailable, h.Started.Port67);
        Assert.Equal([DhcpHarness.Server4011], h.Started.LocalEndPoints);

        // A client sent here by the DHCP server's option 60 "PXEClient" asks 4011 for its boot file.
        using var client = h.Client("192.0.2.60", 68);
        var request = Request(DhcpMessageType.Request, options: [Pxe(7), Arch(7)]);
        h.Send(new DhcpPacket
        {
            Op = request.Op, TransactionId = 7, ClientAddress = IPAddress.Parse("192.0.2.60"),
            ClientHardwareAddress = request.ClientHardwareAddress, Options = request.Options,
        }, DhcpHarness.Server4011, client);
        var ack = (await DhcpHarness.ReceiveAsync(client, DhcpHarness.Wait))!;
        Assert.Equal(DhcpMessageType.Ack, ack.MessageType);
        Assert.Equal("ipxe.efi", ack.File);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Full_mode_refuses_to_start_when_another_server_holds_67(bool shareable)
    {
        var e = Assert.Throws<SocketException>(() => new DhcpHarness(DhcpMode.Full, beforeStart: network => network.HoldPort(67, shareable)));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public void Proxy_mode_without_4011_refuses_to_start_when_67_cannot_be_shared()
    {
        var e = Assert.Throws<SocketException>(() => new DhcpHarness(DhcpMode.Proxy, configure: o => o.ProxyPort = 0,
            beforeStart: network => network.HoldPort(67, shareable: false)));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }
}
