using Microsoft.Extensions.Time.Testing;
using PxeKit.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Protocols.Dhcp;

/// <summary>hostile-inputs D14: a client or a segment that floods is limited, others are not.</summary>
public class DhcpRateLimitTests
{
    private static readonly byte[] Local = [0, 0, 0, 0];

    private static byte[] Mac(int n) => [0x52, 0x54, 0x00, (byte)(n >> 16), (byte)(n >> 8), (byte)n];

    [Fact]
    public void A_client_gets_its_burst_then_its_rate()
    {
        var time = new FakeTimeProvider();
        var limiter = new DhcpRateLimiter(new DhcpRateLimit(4, 20), DhcpRateLimit.Off, time);
        var allowed = Enumerable.Range(0, 30).Count(_ => limiter.TryAcquire(Mac(1), Local));
        Assert.Equal(20, allowed);
        Assert.True(limiter.TryAcquire(Mac(2), Local)); // another client has its own budget
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(4, Enumerable.Range(0, 10).Count(_ => limiter.TryAcquire(Mac(1), Local)));
        Assert.Equal(10 + 6, limiter.TakeDropped());
        Assert.Equal(0, limiter.TakeDropped());
    }

    [Fact]
    public void A_flood_of_made_up_macs_is_bounded_per_segment_and_another_relay_is_still_served()
    {
        var time = new FakeTimeProvider();
        var limiter = new DhcpRateLimiter(new DhcpRateLimit(4, 20), new DhcpRateLimit(100, 500), time);
        var allowed = Enumerable.Range(0, 2000).Count(n => limiter.TryAcquire(Mac(n), Local));
        Assert.Equal(500, allowed);
        Assert.True(limiter.TryAcquire(Mac(5000), [198, 51, 100, 1]));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, Enumerable.Range(3000, 1000).Count(n => limiter.TryAcquire(Mac(n), Local)));
    }

    [Fact]
    public void More_clients_than_can_be_tracked_are_still_served_within_the_segment_budget()
    {
        var time = new FakeTimeProvider();
        var limiter = new DhcpRateLimiter(new DhcpRateLimit(4, 20), DhcpRateLimit.Off, time);
        var count = DhcpRateLimiter.MaxTrackedClients + 1000;
        Assert.Equal(count, Enumerable.Range(0, count).Count(n => limiter.TryAcquire(Mac(n), Local)));
        // Once the old buckets have refilled they are forgotten and new clients are tracked again.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(20, Enumerable.Range(0, 30).Count(_ => limiter.TryAcquire(Mac(count + 1), Local)));
    }

    [Fact]
    public async Task The_server_answers_a_looping_client_within_its_budget_and_says_so_once()
    {
        await using var h = new DhcpHarness(DhcpMode.Full, configure: o => o.PerClientLimit = new DhcpRateLimit(1, 3));
        for (var i = 0; i < 10; i++)
            h.Send(Request(DhcpMessageType.Discover, xid: (uint)i));
        var offers = 0;
        while (await DhcpHarness.ReceiveAsync(h.Broadcast, DhcpHarness.Silence) is not null)
            offers++;
        Assert.Equal(3, offers);
        Assert.Single(h.Logger.Lines, l => l.Message.Contains("over the rate limits", StringComparison.Ordinal));

        // Another client is not held back by the first one's loop.
        h.Send(Request(DhcpMessageType.Discover, mac: Mac(77)));
        Assert.NotNull(await h.BroadcastReplyAsync());
    }
}
