using System.Net;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Storage;
using PxeKit.Tests.Protocols.Dhcp;

namespace PxeKit.Tests.Server.Storage;

public sealed class SqliteDhcpLeaseStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pxekit-leases-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Leases_round_trip_including_odd_values()
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000);
        var leases = new[]
        {
            new DhcpLease(IPAddress.Parse("192.0.2.100"), "52:54:00:12:34:56", expires, DhcpLeaseState.Active, "pc,01", "01" + new string('A', 600)),
            new DhcpLease(IPAddress.Parse("192.0.2.101"), "", DateTimeOffset.UnixEpoch, DhcpLeaseState.Declined),
            new DhcpLease(IPAddress.Parse("192.0.2.102"), "52:54:00:00:00:02", DateTimeOffset.MaxValue.AddDays(-1), DhcpLeaseState.Released, "a'b\"c"),
        };
        await using (var store = new SqliteDhcpLeaseStore(_directory))
            await Task.WhenAll(leases.Select(l => store.SaveAsync(l, CancellationToken.None)));
        await using (var store = new SqliteDhcpLeaseStore(_directory))
        {
            var loaded = store.Load().OrderBy(l => l.Address.ToString()).ToList();
            Assert.Equal(3, loaded.Count);
            Assert.Equal(leases[0] with { ClientId = leases[0].ClientId![..510] }, loaded[0]);
            Assert.Equal(leases[1], loaded[1]);
            Assert.Equal("a'b\"c", loaded[2].HostName);
        }
    }

    [Fact]
    public async Task A_restarted_server_keeps_every_client_address()
    {
        var acked = new List<(byte[] Mac, IPAddress Address)>();
        await using (var store = new SqliteDhcpLeaseStore(_directory))
        await using (var h = new DhcpHarness(DhcpMode.Full, store))
        {
            for (byte i = 1; i <= 5; i++)
            {
                byte[] mac = [0x52, 0x54, 0, 0, 1, i];
                acked.Add((mac, (await h.LeaseAsync(mac)).YourAddress));
            }
        }
        await using (var store = new SqliteDhcpLeaseStore(_directory))
        await using (var h = new DhcpHarness(DhcpMode.Full, store))
        {
            // Reversed order: a server that forgot would hand out .100 first.
            foreach (var (mac, address) in Enumerable.Reverse(acked))
            {
                h.Send(DhcpTestPackets.Request(DhcpMessageType.Request, mac, options: new DhcpOption(DhcpOptionCode.RequestedIpAddress, address.GetAddressBytes())));
                var ack = (await h.BroadcastReplyAsync())!;
                Assert.Equal(DhcpMessageType.Ack, ack.MessageType);
                Assert.Equal(address, ack.YourAddress);
            }
        }
    }
}
