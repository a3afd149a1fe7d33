using System.Buffers.Binary;

namespace PxeKit.Protocols.Dhcp;

/// <summary>
/// Message budgets per client (chaddr) and per network segment (the relay's giaddr, or 0.0.0.0 for the local
/// segment), as token buckets (hostile-inputs D14). A PXE boot sends a handful of messages a second at most
/// (firmware DISCOVER retries, iPXE, the kernel), so a client far above that is a broken or hostile one; the segment
/// budget bounds a random-MAC flood, which no per-client budget can see. Allocation-free per message: buckets are
/// structs in dictionaries keyed by numbers, bounded in count.
/// </summary>
public sealed class DhcpRateLimiter
{
    /// <summary>Clients tracked at once; beyond it, buckets idle long enough to be full again are forgotten, and a new
    /// client that still finds no room is counted against its segment only.</summary>
    public const int MaxTrackedClients = 65_536;

    private readonly DhcpRateLimit _client;
    private readonly DhcpRateLimit _segment;
    private readonly TimeProvider _time;
    private readonly Dictionary<ulong, Bucket> _clients = [];
    private readonly Dictionary<uint, Bucket> _segments = [];
    private readonly Lock _gate = new();
    private long _dropped;
    private long _lastSweep;

    public DhcpRateLimiter(DhcpRateLimit perClient, DhcpRateLimit perSegment, TimeProvider time)
    {
        _client = perClient;
        _segment = perSegment;
        _time = time;
    }

    /// <summary>Messages refused since the last call (for one log line per period, not one per message).</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>True when the message may be answered; false when its client or its segment is over budget.</summary>
    public bool TryAcquire(ReadOnlySpan<byte> hardwareAddress, ReadOnlySpan<byte> relayAddress)
    {
        var now = _time.GetTimestamp();
        var segmentKey = relayAddress.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(relayAddress) : 0u;
        var clientKey = ClientKey(hardwareAddress);
        lock (_gate)
        {
            var clientAllowed = !_client.IsEnabled || Take(_clients, clientKey, _client, now, MaxTrackedClients);
            // A client over its own budget does not also spend its segment's.
            var allowed = clientAllowed && (!_segment.IsEnabled || Take(_segments, segmentKey, _segment, now, MaxTrackedClients));
            if (!allowed)
                _dropped++;
            return allowed;
        }
    }

    private bool Take<TKey>(Dictionary<TKey, Bucket> buckets, TKey key, DhcpRateLimit limit, long now, int maxTracked)
        where TKey : notnull
    {
        if (!buckets.TryGetValue(key, out var bucket))
        {
            if (buckets.Count >= maxTracked && !Forget(buckets, limit, now))
                return true; // no room to track it: the segment budget still applies
            bucket = new Bucket(limit.Burst, now);
        }
        var elapsed = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
        var tokens = Math.Min(limit.Burst, bucket.Tokens + (elapsed * limit.PerSecond));
        var allowed = tokens >= 1;
        buckets[key] = new Bucket(allowed ? tokens - 1 : tokens, now);
        return allowed;
    }

    /// <summary>Drops buckets that have refilled completely (the same as not tracking them); false when none had.</summary>
    private bool Forget<TKey>(Dictionary<TKey, Bucket> buckets, DhcpRateLimit limit, long now)
        where TKey : notnull
    {
        // A sweep walks every bucket: at most one a second, or a flood of new MACs would make each message cost that.
        if (_lastSweep != 0 && _time.GetElapsedTime(_lastSweep, now) < TimeSpan.FromSeconds(1))
            return false;
        _lastSweep = now;
        var before = buckets.Count;
        foreach (var (key, bucket) in buckets)
        {
            if (bucket.Tokens + (_time.GetElapsedTime(bucket.Stamp, now).TotalSeconds * limit.PerSecond) >= limit.Burst)
                buckets.Remove(key);
        }
        return buckets.Count < before;
    }

    /// <summary>Up to eight bytes of chaddr as a number (Ethernet uses six; longer hardware addresses share buckets
    /// by their first eight bytes, which only makes the limit stricter for them).</summary>
    private static ulong ClientKey(ReadOnlySpan<byte> hardwareAddress)
    {
        Span<byte> key = stackalloc byte[8];
        key.Clear();
        hardwareAddress[..Math.Min(8, hardwareAddress.Length)].CopyTo(key);
        return BinaryPrimitives.ReadUInt64BigEndian(key);
    }

    private readonly record struct Bucket(double Tokens, long Stamp);
}

/// <summary>A token bucket's size: <see cref="Burst"/> messages at once, refilled at <see cref="PerSecond"/>.</summary>
public readonly record struct DhcpRateLimit(double PerSecond, int Burst)
{
    public static readonly DhcpRateLimit Off = new(0, 0);

    public bool IsEnabled => PerSecond > 0 && Burst > 0;
}
