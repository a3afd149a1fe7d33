using System.Net;
using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

public class FullDhcpTests
{
    private static readonly byte[] Mac2 = [0x52, 0x54, 0x00, 0, 0, 2];
    private static readonly byte[] Mac3 = [0x52, 0x54, 0x00, 0, 0, 3];

    [Fact]
    public async Task Discover_offer_request_ack_gives_a_stored_lease_with_options()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac, Text(DhcpOptionCode.HostName, "pc\r\n01"));
        Assert.Equal(IPAddress.Parse("192.0.2.100"), ack.YourAddress);
        Assert.Equal(3600u, ack.GetUInt32(DhcpOptionCode.LeaseTime));
        Assert.Equal(1800u, ack.GetUInt32(DhcpOptionCode.RenewalTime));
        Assert.Equal(3150u, ack.GetUInt32(DhcpOptionCode.RebindingTime));
        Assert.Equal(IPAddress.Parse("255.255.255.0"), ack.GetAddress(DhcpOptionCode.SubnetMask));
        Assert.Equal(DhcpHarness.ServerAddress, ack.GetAddress(DhcpOptionCode.Router));
        Assert.Equal(IPAddress.Parse("192.0.2.53"), ack.GetAddress(DhcpOptionCode.DomainNameServer));
        Assert.Equal("lab.example", ack.GetText(DhcpOptionCode.DomainName));
        var lease = Assert.Single(h.Store.Load());
        Assert.Equal("52:54:00:12:34:56", lease.HardwareAddress);
        Assert.Equal("pc01", lease.HostName);
        Assert.Equal(DhcpLeaseState.Active, lease.State);
    }

    [Fact]
    public async Task Pxe_client_gets_address_and_boot_file()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac, Pxe(0), Arch(0));
        Assert.Equal("undionly.kpxe", ack.File);
        Assert.Equal(DhcpHarness.ServerAddress, ack.ServerAddress);
        Assert.Equal("PXEClient", ack.GetText(DhcpOptionCode.VendorClassIdentifier));
        Assert.NotEqual(IPAddress.Any, ack.YourAddress);
    }

    [Fact]
    public async Task Renewal_is_unicast_to_ciaddr_and_extends_the_lease()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac);
        h.Time.Advance(TimeSpan.FromMinutes(30));
        using var client = h.Client(ack.YourAddress.ToString(), 68);
        var renew = Request(DhcpMessageType.Request);
        h.Send(new DhcpPacket { Op = renew.Op, TransactionId = 3, ClientAddress = ack.YourAddress, ClientHardwareAddress = renew.ClientHardwareAddress, Options = renew.Options }, from: client);
        var renewed = (await DhcpHarness.ReceiveAsync(client, DhcpHarness.Wait))!;
        Assert.Equal(DhcpMessageType.Ack, renewed.MessageType);
        Assert.Equal(ack.YourAddress, renewed.YourAddress);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromHours(1), Assert.Single(h.Store.Load()).Expires);
    }

    [Fact]
    public async Task Init_reboot_with_its_address_is_acked_and_with_another_is_naked()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac);
        h.Send(Request(DhcpMessageType.Request, options: new DhcpOption(DhcpOptionCode.RequestedIpAddress, ack.YourAddress.GetAddressBytes())));
        Assert.Equal(DhcpMessageType.Ack, (await h.BroadcastReplyAsync())!.MessageType);
        h.Send(Request(DhcpMessageType.Request, options: Address(DhcpOptionCode.RequestedIpAddress, "192.0.2.105")));
        var nak = (await h.BroadcastReplyAsync())!;
        Assert.Equal(DhcpMessageType.Nak, nak.MessageType);
        Assert.Equal(IPAddress.Any, nak.YourAddress);
        h.Send(Request(DhcpMessageType.Request, options: Address(DhcpOptionCode.RequestedIpAddress, "10.9.9.9")));
        Assert.Equal(DhcpMessageType.Nak, (await h.BroadcastReplyAsync())!.MessageType);
    }

    [Fact] // D12
    public async Task D12_init_reboot_without_a_lease_is_ignored_unless_authoritative()
    {
        await using (var h = new DhcpHarness(DhcpMode.Full))
        {
            h.Send(Request(DhcpMessageType.Request, options: Address(DhcpOptionCode.RequestedIpAddress, "192.0.2.105")));
            await h.AssertSilentAsync();
        }
        await using (var h = new DhcpHarness(DhcpMode.Full, configure: o => o.Authoritative = true))
        {
            h.Send(Request(DhcpMessageType.Request, options: Address(DhcpOptionCode.RequestedIpAddress, "192.0.2.105")));
            Assert.Equal(DhcpMessageType.Nak, (await h.BroadcastReplyAsync())!.MessageType);
        }
    }

    [Fact] // D12
    public async Task D12_request_for_another_server_is_silently_ignored_and_frees_the_offer()
    {
        // A one-address pool: the second client can only get it if the first client's offer was freed.
        await using var h = new DhcpHarness(DhcpMode.Full, configure: o => o.Subnets[0].RangeEnd = IPAddress.Parse("192.0.2.100"));
        h.Send(Request(DhcpMessageType.Discover));
        var offer = (await h.BroadcastReplyAsync())!;
        h.Send(Request(DhcpMessageType.Request, options: [Address(DhcpOptionCode.ServerIdentifier, "192.0.2.254"), new(DhcpOptionCode.RequestedIpAddress, offer.YourAddress.GetAddressBytes())]));
        await h.AssertSilentAsync();
        Assert.Empty(h.Store.Load());
        h.Send(Request(DhcpMessageType.Discover, Mac2));
        Assert.Equal(offer.YourAddress, (await h.BroadcastReplyAsync())!.YourAddress);
    }

    [Fact]
    public async Task Release_then_discover_gives_the_same_address_back()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac);
        var release = Request(DhcpMessageType.Release, options: Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1"));
        h.Send(new DhcpPacket { Op = release.Op, ClientAddress = ack.YourAddress, ClientHardwareAddress = release.ClientHardwareAddress, Options = release.Options });
        await h.StoreEventuallyAsync(l => l.Count == 1 && l[0].State == DhcpLeaseState.Released);
        h.Send(Request(DhcpMessageType.Discover));
        Assert.Equal(ack.YourAddress, (await h.BroadcastReplyAsync())!.YourAddress);
    }

    [Fact] // D18
    public async Task Declined_address_leaves_the_pool_and_only_its_holder_may_decline()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var ack = await h.LeaseAsync(Mac);
        h.Send(Request(DhcpMessageType.Decline, Mac2, options: new DhcpOption(DhcpOptionCode.RequestedIpAddress, ack.YourAddress.GetAddressBytes())));
        await h.AssertSilentAsync();
        Assert.Equal(DhcpLeaseState.Active, Assert.Single(h.Store.Load()).State);
        h.Send(Request(DhcpMessageType.Decline, options: new DhcpOption(DhcpOptionCode.RequestedIpAddress, ack.YourAddress.GetAddressBytes())));
        await h.StoreEventuallyAsync(l => l.Count == 1 && l[0].State == DhcpLeaseState.Declined);
        var again = await h.LeaseAsync(Mac);
        Assert.NotEqual(ack.YourAddress, again.YourAddress);
    }

    [Fact]
    public async Task Reservation_wins_and_is_kept_from_others()
    {
        await using var h = new DhcpHarness(DhcpMode.Full, configure: o =>
        {
            o.Subnets[0].Reservations["52:54:00:00:00:02"] = IPAddress.Parse("192.0.2.100");
            o.Subnets[0].Reservations["52:54:00:00:00:03"] = IPAddress.Parse("192.0.2.20");
        });
        Assert.Equal(IPAddress.Parse("192.0.2.101"), (await h.LeaseAsync(Mac)).YourAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), (await h.LeaseAsync(Mac2)).YourAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.20"), (await h.LeaseAsync(Mac3)).YourAddress);
    }

    [Fact]
    public async Task Inform_gets_options_without_address_or_lease_time()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        using var client = h.Client("192.0.2.30", 68);
        var inform = Request(DhcpMessageType.Inform);
        h.Send(new DhcpPacket { Op = inform.Op, ClientAddress = IPAddress.Parse("192.0.2.30"), ClientHardwareAddress = inform.ClientHardwareAddress, Options = inform.Options }, from: client);
        var ack = (await DhcpHarness.ReceiveAsync(client, DhcpHarness.Wait))!;
        Assert.Equal(DhcpMessageType.Ack, ack.MessageType);
        Assert.Equal(IPAddress.Any, ack.YourAddress);
        Assert.Null(ack.GetUInt32(DhcpOptionCode.LeaseTime));
        Assert.NotNull(ack.GetAddress(DhcpOptionCode.SubnetMask));
    }

    [Fact]
    public async Task Relayed_request_gets_an_address_of_the_relay_subnet_and_82_back()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        using var relay = h.Client("198.51.100.1", 67);
        byte[] agent = [1, 4, 1, 2, 3, 4];
        var discover = Request(DhcpMessageType.Discover, options: new DhcpOption(DhcpOptionCode.RelayAgentInformation, agent));
        h.Send(new DhcpPacket { Op = discover.Op, Hops = 1, RelayAddress = IPAddress.Parse("198.51.100.1"), ClientHardwareAddress = discover.ClientHardwareAddress, Options = discover.Options }, from: relay);
        var offer = (await DhcpHarness.ReceiveAsync(relay, DhcpHarness.Wait))!;
        Assert.Equal(IPAddress.Parse("198.51.100.100"), offer.YourAddress);
        Assert.Equal(agent, offer.Options[^1].Value);
    }

    [Fact]
    public async Task Our_own_probe_gets_no_offer_and_holds_no_address()
    {
        await using var h = new DhcpHarness(DhcpMode.Full, configure: o => o.Subnets[0].RangeEnd = IPAddress.Parse("192.0.2.100"));
        using var self = h.Client("192.0.2.1", 68);
        h.Send(Request(DhcpMessageType.Discover, Mac2, options: [Pxe(7), Arch(7)]), from: self);
        await h.AssertSilentAsync();
        Assert.Equal(IPAddress.Parse("192.0.2.100"), (await h.LeaseAsync(Mac3)).YourAddress);
    }

    [Fact] // D13
    public async Task D13_no_matching_subnet_is_ignored_and_the_next_client_served()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        var discover = Request(DhcpMessageType.Request, options: [Address(DhcpOptionCode.RequestedIpAddress, "203.0.113.5"), Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1")]);
        h.Send(new DhcpPacket { Op = discover.Op, ClientAddress = IPAddress.Parse("203.0.113.5"), ClientHardwareAddress = discover.ClientHardwareAddress, Options = discover.Options });
        h.Send(new DhcpPacket { Op = discover.Op, RelayAddress = IPAddress.Parse("203.0.113.1"), ClientHardwareAddress = discover.ClientHardwareAddress, Options = discover.Options });
        await h.AssertSilentAsync();
        Assert.Equal(2, h.Logger.Lines.Count(l => l.Message.Contains("no configured subnet")));
        await h.LeaseAsync(Mac2);
    }

    [Fact] // D14
    public async Task D14_discover_flood_stores_nothing_and_exhaustion_is_reported()
    {
        await using var h = new DhcpHarness(DhcpMode.Full);
        for (var i = 0; i < 12; i++)
            h.Send(Request(DhcpMessageType.Discover, [2, 0, 0, 0, 0, (byte)i]));
        for (var i = 0; i < 11; i++)
            Assert.NotNull(await h.BroadcastReplyAsync());
        await h.AssertSilentAsync();
        Assert.Empty(h.Store.Load());
        Assert.Contains(h.Logger.Lines, l => l.Message.Contains("exhausted"));
        // Offers expire: after the hold time a new client gets an address again.
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.LeaseAsync(Mac3);
    }

    [Fact]
    public async Task Ping_check_skips_an_address_in_use()
    {
        var options = new DhcpServerOptions();
        await using var h = new DhcpHarness(DhcpMode.Full, configure: o => o.PingCheck = true);
        // The harness server has no ping; build one that has.
        var server = new DhcpServer(h.Options, h.Boot, new InMemoryDhcpLeaseStore(), h.Network, h.Time, h.Logger,
            (address, _) => Task.FromResult(address.Equals(IPAddress.Parse("192.0.2.100"))));
        using var stop = new CancellationTokenSource();
        var serving = server.Start(IPAddress.Parse("192.0.2.2"), stop.Token).Serving;
        using var sender = h.Client("0.0.0.0", 0);
        sender.Send(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 67), Encode(Request(DhcpMessageType.Discover)));
        Assert.Equal(IPAddress.Parse("192.0.2.101"), (await h.BroadcastReplyAsync())!.YourAddress);
        await stop.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task Ack_waits_for_the_store()
    {
        var store = new GatedStore();
        await using var h = new DhcpHarness(DhcpMode.Full, store);
        h.Send(Request(DhcpMessageType.Discover));
        var offer = (await h.BroadcastReplyAsync())!;
        h.Send(Request(DhcpMessageType.Request, options: [Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1"), new(DhcpOptionCode.RequestedIpAddress, offer.YourAddress.GetAddressBytes())]));
        await h.AssertSilentAsync();
        store.Gate.SetResult();
        Assert.Equal(DhcpMessageType.Ack, (await h.BroadcastReplyAsync())!.MessageType);
    }

    [Fact]
    public async Task Failed_store_means_no_ack()
    {
        var store = new GatedStore();
        store.Gate.SetException(new IOException("disk full"));
        await using var h = new DhcpHarness(DhcpMode.Full, store);
        h.Send(Request(DhcpMessageType.Discover));
        var offer = (await h.BroadcastReplyAsync())!;
        h.Send(Request(DhcpMessageType.Request, options: [Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1"), new(DhcpOptionCode.RequestedIpAddress, offer.YourAddress.GetAddressBytes())]));
        await h.AssertSilentAsync();
        Assert.Contains(h.Logger.Lines, l => l.Message.Contains("could not store"));
    }

    private sealed class GatedStore : IDhcpLeaseStore
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public IReadOnlyList<DhcpLease> Load() => [];
        public Task SaveAsync(DhcpLease lease, CancellationToken cancellationToken) => Gate.Task;
    }
}
