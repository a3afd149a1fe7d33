using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Server.Storage;

/// <summary>
/// Boot traces and the client registry: <c>traces.db</c> (SQLite, WAL) in the data directory, and in memory the
/// maps the boot policy asks on its hot path (client by MAC, MAC by address), so those never touch the disk.
/// </summary>
/// <remarks>
/// <para><see cref="Record"/> and <see cref="Seen"/> run on the callers' threads (DHCP loop, TFTP, Kestrel): they
/// resolve the MAC from memory, put the event on a bounded queue and return. When the queue is full the event is
/// dropped and counted, and the writer logs the count (a trace is worth less than an answer to a client). One
/// writer thread commits the queue in batches (one transaction and one WAL append per batch, synchronous=NORMAL: a
/// power cut may lose the last events, never the file), numbers the boots (see <see cref="IBootTraceQuery"/>) and
/// deletes events past <see cref="TraceOptions.Retention"/> and <see cref="TraceOptions.MaxEvents"/> every hour and
/// whenever a tenth of <see cref="TraceOptions.MaxEvents"/> has been written since the last time.</para>
/// <para>Queries open their own read-only connection, so they see what the writer has committed (usually within
/// milliseconds; <see cref="FlushAsync"/> waits for it).</para>
/// </remarks>
public sealed partial class SqliteBootTraceStore : IBootTrace, IBootTraceQuery, IAsyncDisposable, IDisposable
{
    public const string FileName = SqliteBootTraceReader.FileName;

    /// <summary>Events waiting for the writer. A boot is some 30 events; this holds a storm of 500 boots at once.</summary>
    public const int DefaultQueueCapacity = 16_384;

    /// <summary>Clients kept in memory; beyond it the least recently seen tenth is forgotten (the disk keeps them).
    /// Bounds what a flood of made-up MACs can cost.</summary>
    internal const int MaxClientsInMemory = 100_000;

    /// <summary>Longest text stored for a name, boot file or detail: a client chooses these (hostile-inputs D6).</summary>
    internal const int MaxTextLength = 512;

    private const int MaxBatch = 512;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);
    private static readonly TimeSpan DropWarningInterval = TimeSpan.FromSeconds(10);

    private readonly TraceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SqliteConnection? _connection;
    private readonly SqliteBootTraceReader? _reader;
    private readonly Channel<TraceWork> _queue;
    private readonly Thread? _writer;
    private readonly ConcurrentDictionary<string, BootClient> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, string> _addresses = new();
    private readonly Lock _merge = new();
    private long _dropped;

    public SqliteBootTraceStore(TraceOptions options, string dataDirectory, TimeProvider time, ILogger<SqliteBootTraceStore> logger)
        : this(options, dataDirectory, time, logger, DefaultQueueCapacity)
    {
    }

    /// <param name="queueCapacity">Events and client updates that may wait for the writer before new ones are dropped.</param>
    public SqliteBootTraceStore(TraceOptions options, string dataDirectory, TimeProvider time, ILogger logger, int queueCapacity)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<TraceWork>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the caller drops, never waits
        });
        if (!options.Enabled)
            return;
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            Directory.CreateDirectory(dataDirectory);
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            _connection.Open();
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // MACs and UUIDs of the site: 0600
            Execute("PRAGMA journal_mode=WAL");
            Execute("PRAGMA synchronous=NORMAL");
            Execute(Schema);
            LoadClients();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            // Traces help diagnose boots; they are not worth refusing to boot anything. Say so once, loudly.
            LogCannotOpen(_logger, path, e.Message);
            _connection?.Dispose();
            _connection = null;
            _clients.Clear();
            _addresses.Clear();
            return;
        }
        _reader = new SqliteBootTraceReader(dataDirectory);
        // A thread of its own, like the lease writer: it blocks in SQLite, which must not starve the thread pool.
        _writer = new Thread(Write) { IsBackground = true, Name = "PxeKit boot trace writer" };
        _writer.Start();
    }

    /// <summary>True when events are written to <c>traces.db</c> (enabled, and the file could be opened).</summary>
    public bool IsRecording => _connection is not null;

    /// <summary>Events and client updates dropped because the queue was full, since the last warning.</summary>
    internal long PendingDropCount => Interlocked.Read(ref _dropped);

    /// <summary>Work waiting for the writer.</summary>
    internal int QueuedCount => _queue.Reader.Count;

    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS clients (
            mac          TEXT PRIMARY KEY,
            uuid         TEXT,
            arch         INTEGER,
            address      TEXT,
            vendor_class TEXT,
            user_class   TEXT,
            hostname     TEXT,
            first_seen   INTEGER NOT NULL,  -- Unix milliseconds
            last_seen    INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS events (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so boot numbers only grow
            time         INTEGER NOT NULL,  -- Unix milliseconds
            boot         INTEGER NOT NULL,  -- id of the boot's first event
            kind         TEXT NOT NULL,     -- BootEventKind by name: stable when members are added
            mac          TEXT,
            address      TEXT,
            requested    TEXT,
            served       TEXT,
            bytes        INTEGER NOT NULL,
            duration_us  INTEGER NOT NULL,
            detail       TEXT
        );
        CREATE INDEX IF NOT EXISTS events_by_mac ON events (mac, boot);
        CREATE INDEX IF NOT EXISTS events_by_address ON events (address, boot) WHERE mac IS NULL;
        CREATE INDEX IF NOT EXISTS events_by_time ON events (time);
        """;

    public void Record(BootEvent bootEvent)
    {
        try
        {
            if (_connection is null || bootEvent is null)
                return;
            var address = NetworkAddress.Unmapped(bootEvent.Address);
            string? mac = null;
            if (bootEvent.Mac is { } given && MacAddress.TryNormalize(given, out var normal))
                mac = normal;
            else if (address is not null)
                mac = MacForAddress(address);
            var recorded = mac == bootEvent.Mac && Equals(address, bootEvent.Address) ? bootEvent : bootEvent with { Mac = mac, Address = address };
            Enqueue(new TraceWork(recorded, null, null, TraceWorkKind.Event));
        }
        catch (Exception e)
        {
            // The contract: recording never throws into a listener. A bug here costs one trace event.
            LogRecordFailed(_logger, e);
        }
    }

    public void Seen(BootClient client)
    {
        try
        {
            if (client is null || !MacAddress.TryNormalize(client.Mac, out var mac))
                return;
            var seenAt = client.LastSeen == default ? _time.GetUtcNow() : client.LastSeen;
            var address = NetworkAddress.Unmapped(client.Address);
            BootClient merged;
            lock (_merge)
            {
                _clients.TryGetValue(mac, out var known);
                merged = new BootClient
                {
                    Mac = mac,
                    Uuid = Clip(client.Uuid) ?? known?.Uuid,
                    Architecture = client.Architecture ?? known?.Architecture,
                    Address = address ?? known?.Address,
                    VendorClass = Clip(client.VendorClass) ?? known?.VendorClass,
                    UserClass = Clip(client.UserClass) ?? known?.UserClass,
                    Hostname = Clip(client.Hostname) ?? known?.Hostname,
                    FirstSeen = known?.FirstSeen ?? (client.FirstSeen == default ? seenAt : client.FirstSeen),
                    LastSeen = known is null || seenAt > known.LastSeen ? seenAt : known.LastSeen,
                };
                _clients[mac] = merged;
                if (address is not null)
                {
                    // One address per client: the old binding goes, or a client walking through addresses (spoofed
                    // REQUESTs) would grow the map without bound.
                    if (known?.Address is { } old && !old.Equals(address))
                        _addresses.TryRemove(new KeyValuePair<IPAddress, string>(old, mac));
                    _addresses[address] = mac;
                }
                if (_clients.Count > MaxClientsInMemory)
                    ForgetLeastRecentlySeen();
            }
            if (_connection is not null)
                Enqueue(new TraceWork(null, merged, null, TraceWorkKind.Client));
        }
        catch (Exception e)
        {
            LogRecordFailed(_logger, e);
        }
    }

    public BootClient? FindByMac(string mac) =>
        mac is not null && MacAddress.TryNormalize(mac, out var normal) && _clients.TryGetValue(normal, out var client) ? client : null;

    public string? MacForAddress(IPAddress address) =>
        address is not null && _addresses.TryGetValue(NetworkAddress.Unmapped(address)!, out var mac) ? mac : null;

    /// <summary>Waits until everything recorded before the call is committed (tests, and tools that read right
    /// after recording). Completes at once when nothing is written.</summary>
    public Task FlushAsync() => Signal(TraceWorkKind.Flush);

    /// <summary>Runs the retention and size pruning now rather than at the next hour.</summary>
    public Task PruneAsync() => Signal(TraceWorkKind.Prune);

    private Task Signal(TraceWorkKind kind)
    {
        if (_connection is null)
            return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Control items wait for room rather than being dropped: callers of these can afford to wait.
        return SignalAsync(new TraceWork(null, null, done, kind), done.Task);
    }

    private async Task SignalAsync(TraceWork work, Task done)
    {
        try
        {
            await _queue.Writer.WriteAsync(work);
        }
        catch (ChannelClosedException)
        {
            return; // disposed: everything was flushed then
        }
        await done;
    }

    private void Enqueue(TraceWork work)
    {
        if (!_queue.Writer.TryWrite(work))
            Interlocked.Increment(ref _dropped);
    }

    private static string? Clip(string? text) => text is null ? null : Clean(text);

    /// <summary>At most <see cref="MaxTextLength"/> characters, control characters as <c>\u001B</c>: a client's
    /// name must not be able to forge lines or drive the terminal of the sysadmin who reads it.</summary>
    internal static string Clean(string text) => Logging.ClientText.Printable(text, MaxTextLength);

    private void ForgetLeastRecentlySeen()
    {
        var oldest = _clients.Values.OrderBy(c => c.LastSeen).Take(MaxClientsInMemory / 10).ToList();
        foreach (var client in oldest)
        {
            _clients.TryRemove(client.Mac, out _);
            if (client.Address is { } address)
                _addresses.TryRemove(new KeyValuePair<IPAddress, string>(address, client.Mac));
        }
    }

    /// <summary>The registry survives a restart: the most recently seen clients come back into memory.</summary>
    private void LoadClients()
    {
        foreach (var traced in SqliteBootTraceReader.ReadClients(_connection!, MaxClientsInMemory, withBoots: false))
        {
            var client = traced.Client;
            _clients[client.Mac] = client;
            if (client.Address is { } address)
                _addresses.TryAdd(address, client.Mac); // newest first: the first one seen with an address keeps it
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<TracedClient> Clients() => _reader?.Clients() ?? [];

    public TracedClient? FindClient(string mac) => _reader?.FindClient(mac);

    public IReadOnlyList<TracedBoot> Boots(string mac, int count) => _reader?.Boots(mac, count) ?? [];

    public IReadOnlyList<TracedBoot> BootsWithoutMac(IPAddress address, int count) => _reader?.BootsWithoutMac(address, count) ?? [];

    public IReadOnlyList<BootEvent> EventsSince(DateTimeOffset since, int limit) => _reader?.EventsSince(since, limit) ?? [];

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writer is not null)
            await Task.Run(_writer.Join);
        if (_connection is not null)
            await _connection.DisposeAsync();
    }

    /// <summary>For a synchronous dispose (a host disposed with <c>using</c>): the same, blocking.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer?.Join();
        _connection?.Dispose();
    }

    public override string ToString() =>
        _connection is null ? "boot traces in memory only" : string.Create(CultureInfo.InvariantCulture, $"SQLite {_connection.DataSource}");

    private enum TraceWorkKind
    {
        Event,
        Client,
        Flush,
        Prune,
    }

    private readonly record struct TraceWork(BootEvent? Event, BootClient? Client, TaskCompletionSource? Done, TraceWorkKind Kind);

    [LoggerMessage(3000, LogLevel.Warning, "Boot traces are off: cannot open {Path}: {Reason}. Clients are still booted; fix the data directory and restart to record traces")]
    private static partial void LogCannotOpen(ILogger logger, string path, string reason);

    [LoggerMessage(3001, LogLevel.Warning, "Boot trace queue full: {Count} events dropped (the disk is slower than the clients; traces of this burst are incomplete)")]
    private static partial void LogDropped(ILogger logger, long count);

    [LoggerMessage(3002, LogLevel.Warning, "Boot trace could not write {Count} events to traces.db: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, int count, string reason);

    [LoggerMessage(3003, LogLevel.Information, "Boot traces pruned: {Deleted} events older than {Cutoff:yyyy-MM-dd HH:mm} or beyond the newest {MaxEvents}")]
    private static partial void LogPruned(ILogger logger, int deleted, DateTimeOffset cutoff, int maxEvents);

    [LoggerMessage(3004, LogLevel.Error, "Boot trace recording failed (a bug; the client is served regardless)")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception);
}
