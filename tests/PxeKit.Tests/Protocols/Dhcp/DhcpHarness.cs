using System.Net;
using Microsoft.Extensions.Time.Testing;
using PxeKit.Protocols.Dhcp;
using PxeKit.Tests.Infrastructure;

namespace PxeKit.Tests.Protocols.Dhcp;

/// <summary>A DHCP server on the in-memory network with a fake clock; a client that hears broadcasts on
/// 255.255.255.255:68 and a relay on 198.51.100.1:67.</summary>
internal sealed class DhcpHarness : IAsyncDisposable
{
    public static readonly IPAddress ServerAddress = IPAddress.Parse("192.0.2.1");
    public static readonly IPEndPoint Server67 = new(ServerAddress, 67);
    public static readonly IPEndPoint Server4011 = new(ServerAddress, 4011);
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Silence = TimeSpan.FromMilliseconds(300);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public DhcpHarness(DhcpMode mode, IDhcpLeaseStore? store = null, Action<DhcpServerOptions>? configure = null, IDhcpBootPolicy? boot = null,
        IDhcpObserver? observer = null, Action<InMemoryNetwork>? beforeStart = null)
    {
        Options = new DhcpServerOptions { Mode = mode, ServerAddress = ServerAddress };
        if (mode == DhcpMode.Full)
        {
            Options.Subnets.Add(new DhcpSubnet
            {
                Network = IPAddress.Parse("192.0.2.0"),
                PrefixLength = 24,
                RangeStart = IPAddress.Parse("192.0.2.100"),
                RangeEnd = IPAddress.Parse("192.0.2.110"),
                Routers = [ServerAddress],
                DnsServers = [IPAddress.Parse("192.0.2.53")],
                DomainName = "lab.example",
                LeaseTime = TimeSpan.FromHours(1),
            });
            Options.Subnets.Add(new DhcpSubnet
            {
                Network = IPAddress.Parse("198.51.100.0"),
                PrefixLength = 24,
                RangeStart = IPAddress.Parse("198.51.100.100"),
                RangeEnd = IPAddress.Parse("198.51.100.110"),
            });
        }
        configure?.Invoke(Options);
        Store = store ?? new InMemoryDhcpLeaseStore();
        Boot = boot ?? new FixedBootPolicy();
        Server = new DhcpServer(Options, Boot, Store, Network, Time, Logger) { Observer = observer };
        beforeStart?.Invoke(Network);
        Started = Server.Start(ServerAddress, _stop.Token);
        _serving = Started.Serving;
        Broadcast = (InMemoryNetwork.InMemoryEndpoint)Network.Bind(new IPEndPoint(IPAddress.Broadcast, 68));
    }

    public InMemoryNetwork Network { get; } = new();
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    public TestLogger Logger { get; } = new();
    public DhcpServerOptions Options { get; }
    public IDhcpLeaseStore Store { get; }
    public IDhcpBootPolicy Boot { get; }
    public DhcpServer Server { get; }

    /// <summary>What the server bound (how it holds port 67).</summary>
    public DhcpStart Started { get; }

    /// <summary>Hears every broadcast reply.</summary>
    public InMemoryNetwork.InMemoryEndpoint Broadcast { get; }

    /// <summary>Sends from a client endpoint bound on 0.0.0.0:68-like address (its own endpoint).</summary>
    public InMemoryNetwork.InMemoryEndpoint Client(string address = "0.0.0.0", int port = 68) =>
        (InMemoryNetwork.InMemoryEndpoint)Network.Bind(new IPEndPoint(IPAddress.Parse(address), port));

    public void Send(DhcpPacket packet, IPEndPoint? to = null, InMemoryNetwork.InMemoryEndpoint? from = null) =>
        SendRaw(DhcpTestPackets.Encode(packet), to, from);

    public void SendRaw(byte[] bytes, IPEndPoint? to = null, InMemoryNetwork.InMemoryEndpoint? from = null)
    {
        using var temporary = from is null ? Client("0.0.0.0", 0) : null;
        (from ?? temporary!).Send(to ?? Server67, bytes);
    }

    public static async Task<DhcpPacket?> ReceiveAsync(InMemoryNetwork.InMemoryEndpoint endpoint, TimeSpan wait)
    {
        var received = await endpoint.ReceiveAsync(wait);
        return received is { } r ? DhcpTestPackets.Parse(r.Data) : null;
    }

    public Task<DhcpPacket?> BroadcastReplyAsync() => ReceiveAsync(Broadcast, Wait);

    /// <summary>Waits (real time, the server loop runs on the thread pool) until the store holds a lease that
    /// satisfies <paramref name="condition"/>.</summary>
    public async Task StoreEventuallyAsync(Func<IReadOnlyList<DhcpLease>, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition(Store.Load()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the store never reached the expected state\n" + Logger);
            await Task.Delay(20);
        }
    }

    public async Task AssertSilentAsync()
    {
        Assert.Null(await ReceiveAsync(Broadcast, Silence));
    }

    /// <summary>DISCOVER then REQUEST for the offered address; returns the ACK.</summary>
    public async Task<DhcpPacket> LeaseAsync(byte[] mac, params DhcpOption[] options)
    {
        Send(DhcpTestPackets.Request(DhcpMessageType.Discover, mac, 1, options));
        var offer = await BroadcastReplyAsync();
        Assert.Equal(DhcpMessageType.Offer, offer!.MessageType);
        Send(DhcpTestPackets.Request(DhcpMessageType.Request, mac, 2,
            [DhcpTestPackets.Address(DhcpOptionCode.ServerIdentifier, "192.0.2.1"), new DhcpOption(DhcpOptionCode.RequestedIpAddress, offer.YourAddress.GetAddressBytes()), .. options]));
        var ack = await BroadcastReplyAsync();
        Assert.Equal(DhcpMessageType.Ack, ack!.MessageType);
        return ack;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving;
        _stop.Dispose();
    }

    /// <summary>BIOS gets undionly.kpxe, x64 UEFI ipxe.efi; everything else nothing.</summary>
    internal sealed class FixedBootPolicy : IDhcpBootPolicy
    {
        public DhcpBootChoice? Choose(DhcpBootRequest request) => request.Client.Architecture switch
        {
            _ when request.Client.IsIpxe => new DhcpBootChoice($"http://{request.ServerAddress}:8080/boot.ipxe?mac={request.HardwareAddress}"),
            0 => new DhcpBootChoice("undionly.kpxe"),
            7 => new DhcpBootChoice("ipxe.efi"),
            _ => null,
        };
    }
}
