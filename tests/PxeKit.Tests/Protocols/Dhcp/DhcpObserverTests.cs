using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;
using PxeKit.Tests.Infrastructure;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

/// <summary>The DHCP server tells its observer of each exchange; the boot trace's observer turns them into events.</summary>
public sealed class DhcpObserverTests
{
    private sealed class Recorder : IDhcpObserver
    {
        public ConcurrentQueue<(DhcpMessageType Type, bool IsReply, bool IsProxy, ushort? Arch, IPAddress? Address, string? BootFile)> Seen { get; } = new();

        public void Observe(in DhcpExchange exchange) =>
            Seen.Enqueue((exchange.MessageType, exchange.IsReply, exchange.IsProxy,
                (exchange.Client ?? PxeClientInfo.From(exchange.Request)).Architecture, exchange.Address, exchange.Boot?.BootFile));
    }

    private sealed class Throwing : IDhcpObserver
    {
        public void Observe(in DhcpExchange exchange) => throw new InvalidOperationException("observer bug");
    }

    [Fact]
    public async Task The_observer_sees_discover_offer_request_and_ack_with_the_architecture()
    {
        var recorder = new Recorder();
        await using var h = new DhcpHarness(DhcpMode.Full, observer: recorder);
        var ack = await h.LeaseAsync(Mac, Pxe(7), Arch(7));
        await EventuallyAsync(() => recorder.Seen.Count >= 4);

        Assert.Equal(new (DhcpMessageType, bool, bool, ushort?, IPAddress?, string?)[]
        {
            (DhcpMessageType.Discover, false, false, (ushort?)7, (IPAddress?)null, (string?)null),
            (DhcpMessageType.Offer, true, false, 7, ack.YourAddress, "ipxe.efi"),
            (DhcpMessageType.Request, false, false, 7, null, null),
            (DhcpMessageType.Ack, true, false, 7, ack.YourAddress, "ipxe.efi"),
        }, recorder.Seen.ToArray());
    }

    [Fact]
    public async Task A_proxy_offer_is_seen_as_a_proxy_answer()
    {
        var recorder = new Recorder();
        await using var h = new DhcpHarness(DhcpMode.Proxy, observer: recorder);
        h.Send(Request(DhcpMessageType.Discover, options: [Pxe(0), Arch(0)]));
        Assert.NotNull(await h.BroadcastReplyAsync());
        await EventuallyAsync(() => recorder.Seen.Count >= 2);

        Assert.Equal((DhcpMessageType.Offer, true, true, (ushort?)0, (IPAddress?)null, "undionly.kpxe"), recorder.Seen.Last());
    }

    [Fact]
    public async Task An_observer_that_throws_costs_a_log_line_not_the_answer()
    {
        await using var h = new DhcpHarness(DhcpMode.Full, observer: new Throwing());
        await h.LeaseAsync(Mac, Pxe(0), Arch(0));
        Assert.True(h.Logger.Contains("DHCP observer (boot trace) failed"), h.Logger.ToString());
    }

    [Fact]
    public async Task The_boot_trace_records_a_firmware_lease_with_architecture_boot_file_and_client_facts()
    {
        var directory = Directory.CreateTempSubdirectory("pxekit-dhcp-trace-").FullName;
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
            await using var store = new SqliteBootTraceStore(new TraceOptions(), directory, time, new TestLogger(), 1024);
            await using (var h = new DhcpHarness(DhcpMode.Full, observer: new DhcpTraceObserver(store, time)))
            {
                byte[] uuid = [0, .. Guid.Parse("4c4c4544-0031-3010-8052-b3c04f4e3732").ToByteArray()];
                var ack = await h.LeaseAsync(Mac, Pxe(7), Arch(7), new(DhcpOptionCode.ClientMachineIdentifier, uuid));
                // iPXE then asks again with its user class: same boot.
                await h.LeaseAsync(Mac, Pxe(7), Arch(7), Text(DhcpOptionCode.UserClass, "iPXE"));
                // An ordinary laptop is not traced.
                await h.LeaseAsync([0x52, 0x54, 0, 0, 0, 0x77]);
                // Each ACK is observed before it is sent, so everything is recorded once the client has it.

                var client = store.FindByMac("52:54:00:12:34:56")!;
                Assert.Equal(((ushort?)7, "4c4c4544-0031-3010-8052-b3c04f4e3732", ack.YourAddress), (client.Architecture, client.Uuid, client.Address));
                Assert.Equal("52:54:00:12:34:56", store.MacForAddress(ack.YourAddress));
                Assert.Null(store.FindByMac("52:54:00:00:00:77"));
            }
            await store.FlushAsync();

            var boot = Assert.Single(store.Boots("52:54:00:12:34:56", 5));
            Assert.Equal(
            [
                BootEventKind.DhcpDiscover, BootEventKind.DhcpOffer, BootEventKind.DhcpRequest, BootEventKind.DhcpAck,
                BootEventKind.DhcpDiscover, BootEventKind.DhcpOffer, BootEventKind.DhcpRequest, BootEventKind.DhcpAck,
            ], boot.Events.Select(e => e.Kind));
            Assert.Equal("UEFI x64 (arch 7), PXE", boot.Events[0].Detail);
            Assert.Equal(("ipxe.efi", "UEFI x64 (arch 7), PXE"), (boot.Events[3].Served, boot.Events[3].Detail));
            Assert.Equal("UEFI x64 (arch 7), iPXE", boot.Events[7].Detail);
            Assert.StartsWith("http://192.0.2.1:8080/boot.ipxe?mac=52:54:00:12:34:56", boot.Events[7].Served, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + DhcpHarness.Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the expected exchanges were never observed");
            await Task.Delay(10);
        }
    }
}
