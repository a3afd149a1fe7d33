using Microsoft.Data.Sqlite;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Storage;

public sealed partial class SqliteBootTraceStore
{
    /// <summary>Where each client (MAC, or address for events without one) is in its current boot. Only the writer
    /// thread touches it; on a miss it is read back from the events table, so a restart continues a boot.</summary>
    private readonly Dictionary<string, BootPosition> _positions = new(StringComparer.Ordinal);

    private readonly record struct BootPosition(long Boot, long TimeMs, BootEventKind Kind);

    private void Write()
    {
        var batch = new List<TraceWork>(MaxBatch);
        using var insertEvent = _connection!.CreateCommand();
        insertEvent.CommandText = """
            INSERT INTO events (id, time, boot, kind, mac, address, requested, served, bytes, duration_us, detail)
            VALUES ($id, $time, $boot, $kind, $mac, $address, $requested, $served, $bytes, $duration, $detail)
            """;
        var e = new EventParameters(insertEvent);
        using var touchClient = _connection.CreateCommand();
        // An event's MAC makes the client known even when nothing said more about it (an HTTP ?mac= request).
        touchClient.CommandText = """
            INSERT INTO clients (mac, first_seen, last_seen) VALUES ($mac, $time, $time)
            ON CONFLICT(mac) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)
            """;
        var touchMac = touchClient.Parameters.Add("$mac", SqliteType.Text);
        var touchTime = touchClient.Parameters.Add("$time", SqliteType.Integer);
        using var upsertClient = _connection.CreateCommand();
        upsertClient.CommandText = """
            INSERT INTO clients (mac, uuid, arch, address, vendor_class, user_class, hostname, first_seen, last_seen)
            VALUES ($mac, $uuid, $arch, $address, $vendor, $user, $host, $first, $last)
            ON CONFLICT(mac) DO UPDATE SET
                uuid = coalesce(excluded.uuid, uuid), arch = coalesce(excluded.arch, arch),
                address = coalesce(excluded.address, address), vendor_class = coalesce(excluded.vendor_class, vendor_class),
                user_class = coalesce(excluded.user_class, user_class), hostname = coalesce(excluded.hostname, hostname),
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """;
        var c = new ClientParameters(upsertClient);

        var nextId = NextEventId();
        var writtenSincePrune = 0L;
        var lastDropWarning = Environment.TickCount64 - (long)DropWarningInterval.TotalMilliseconds;
        Prune();
        Task<bool>? waiting = null;
        while (true)
        {
            waiting ??= _queue.Reader.WaitToReadAsync().AsTask();
            if (!waiting.Wait(PruneInterval))
            {
                Prune();
                writtenSincePrune = 0;
                continue;
            }
            if (!waiting.Result)
                break;
            waiting = null;

            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                batch.Add(item);
            var committedId = nextId;
            try
            {
                using (var transaction = _connection.BeginTransaction())
                {
                    insertEvent.Transaction = touchClient.Transaction = upsertClient.Transaction = transaction;
                    foreach (var work in batch)
                    {
                        if (work.Kind == TraceWorkKind.Event)
                        {
                            InsertEvent(work.Event!, nextId++, e, insertEvent, transaction);
                            if (work.Event!.Mac is { } mac)
                            {
                                touchMac.Value = mac;
                                touchTime.Value = work.Event.Time.ToUnixTimeMilliseconds();
                                touchClient.ExecuteNonQuery();
                            }
                        }
                        else if (work.Kind == TraceWorkKind.Client)
                        {
                            c.Set(work.Client!);
                            upsertClient.ExecuteNonQuery();
                        }
                    }
                    transaction.Commit();
                }
                writtenSincePrune += nextId - committedId;
            }
            catch (Exception ex)
            {
                // Disk full, file deleted under us (or a bug): these events are lost and said to be, and the writer
                // goes on, since an exception escaping this thread would end the whole server.
                LogWriteFailed(_logger, batch.Count, ex.Message);
                nextId = committedId;
                _positions.Clear(); // positions may name boots whose first event was rolled back
            }

            foreach (var work in batch)
            {
                if (work.Kind == TraceWorkKind.Prune)
                {
                    Prune();
                    writtenSincePrune = 0;
                }
                work.Done?.TrySetResult();
            }
            if (writtenSincePrune > Math.Max(1000, _options.MaxEvents / 10))
            {
                Prune();
                writtenSincePrune = 0;
            }

            var now = Environment.TickCount64;
            if (Interlocked.Read(ref _dropped) > 0 && now - lastDropWarning >= (long)DropWarningInterval.TotalMilliseconds)
            {
                lastDropWarning = now;
                LogDropped(_logger, Interlocked.Exchange(ref _dropped, 0));
            }
        }
        if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
            LogDropped(_logger, dropped);
    }

    private void InsertEvent(BootEvent bootEvent, long id, EventParameters p, SqliteCommand insert, SqliteTransaction transaction)
    {
        var key = bootEvent.Mac ?? "@" + (bootEvent.Address?.ToString() ?? "?");
        var timeMs = bootEvent.Time.ToUnixTimeMilliseconds();
        var boot = id;
        if (PositionOf(key, bootEvent.Mac, bootEvent.Address, transaction) is { } position
            && timeMs - position.TimeMs <= (long)IBootTraceQuery.BootGap.TotalMilliseconds
            && !(bootEvent.StartsBoot && position.Kind is not (BootEventKind.DhcpDiscover or BootEventKind.DhcpOffer or BootEventKind.ProxyOffer)))
        {
            boot = position.Boot;
        }
        if (_positions.Count >= MaxClientsInMemory)
            _positions.Clear(); // a miss costs one indexed read; a flood of made-up MACs costs no memory
        _positions[key] = new BootPosition(boot, timeMs, bootEvent.Kind);

        p.Id.Value = id;
        p.Time.Value = timeMs;
        p.Boot.Value = boot;
        p.Kind.Value = bootEvent.Kind.ToString();
        p.Mac.Value = (object?)bootEvent.Mac ?? DBNull.Value;
        p.Address.Value = (object?)bootEvent.Address?.ToString() ?? DBNull.Value;
        p.Requested.Value = bootEvent.Requested is { } requested ? Clean(requested) : DBNull.Value;
        p.Served.Value = bootEvent.Served is { } served ? Clean(served) : DBNull.Value;
        p.Bytes.Value = Math.Max(0, bootEvent.Bytes);
        p.Duration.Value = Math.Max(0, bootEvent.Duration.Ticks / TimeSpan.TicksPerMicrosecond);
        p.Detail.Value = bootEvent.Detail is { } detail ? Clean(detail) : DBNull.Value;
        insert.ExecuteNonQuery();
    }

    private BootPosition? PositionOf(string key, string? mac, System.Net.IPAddress? address, SqliteTransaction transaction)
    {
        if (_positions.TryGetValue(key, out var position))
            return position;
        using var command = _connection!.CreateCommand();
        command.Transaction = transaction;
        if (mac is not null)
        {
            command.CommandText = "SELECT boot, time, kind FROM events WHERE mac = $key ORDER BY boot DESC, time DESC, id DESC LIMIT 1";
            command.Parameters.AddWithValue("$key", mac);
        }
        else
        {
            command.CommandText = "SELECT boot, time, kind FROM events WHERE mac IS NULL AND address IS $key ORDER BY boot DESC, time DESC, id DESC LIMIT 1";
            command.Parameters.AddWithValue("$key", (object?)address?.ToString() ?? DBNull.Value);
        }
        using var reader = command.ExecuteReader();
        if (!reader.Read())
            return null;
        var kind = Enum.TryParse<BootEventKind>(reader.GetString(2), out var k) ? k : BootEventKind.HttpServed;
        return new BootPosition(reader.GetInt64(0), reader.GetInt64(1), kind);
    }

    private long NextEventId()
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), coalesce((SELECT max(id) FROM events), 0))";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) + 1;
    }

    /// <summary>Deletes events older than the retention and beyond the newest <see cref="TraceOptions.MaxEvents"/>,
    /// and clients that were last seen before the retention and have no event left.</summary>
    private void Prune()
    {
        var cutoff = _time.GetUtcNow() - _options.Retention;
        try
        {
            using var transaction = _connection!.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                DELETE FROM events WHERE time < $cutoff;
                DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET $max);
                """;
            command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$max", _options.MaxEvents);
            var deleted = command.ExecuteNonQuery();
            command.CommandText = """
                DELETE FROM clients WHERE last_seen < $cutoff AND NOT EXISTS (SELECT 1 FROM events WHERE events.mac = clients.mac)
                """;
            command.ExecuteNonQuery();
            transaction.Commit();
            _positions.Clear(); // a position may name a deleted boot; misses read the truth back
            if (deleted > 0)
                LogPruned(_logger, deleted, cutoff, _options.MaxEvents);
        }
        catch (Exception ex)
        {
            LogWriteFailed(_logger, 0, "pruning: " + ex.Message);
        }
    }

    private sealed class EventParameters(SqliteCommand command)
    {
        public SqliteParameter Id { get; } = command.Parameters.Add("$id", SqliteType.Integer);
        public SqliteParameter Time { get; } = command.Parameters.Add("$time", SqliteType.Integer);
        public SqliteParameter Boot { get; } = command.Parameters.Add("$boot", SqliteType.Integer);
        public SqliteParameter Kind { get; } = command.Parameters.Add("$kind", SqliteType.Text);
        public SqliteParameter Mac { get; } = command.Parameters.Add("$mac", SqliteType.Text);
        public SqliteParameter Address { get; } = command.Parameters.Add("$address", SqliteType.Text);
        public SqliteParameter Requested { get; } = command.Parameters.Add("$requested", SqliteType.Text);
        public SqliteParameter Served { get; } = command.Parameters.Add("$served", SqliteType.Text);
        public SqliteParameter Bytes { get; } = command.Parameters.Add("$bytes", SqliteType.Integer);
        public SqliteParameter Duration { get; } = command.Parameters.Add("$duration", SqliteType.Integer);
        public SqliteParameter Detail { get; } = command.Parameters.Add("$detail", SqliteType.Text);
    }

    private sealed class ClientParameters(SqliteCommand command)
    {
        private readonly SqliteParameter _mac = command.Parameters.Add("$mac", SqliteType.Text);
        private readonly SqliteParameter _uuid = command.Parameters.Add("$uuid", SqliteType.Text);
        private readonly SqliteParameter _arch = command.Parameters.Add("$arch", SqliteType.Integer);
        private readonly SqliteParameter _address = command.Parameters.Add("$address", SqliteType.Text);
        private readonly SqliteParameter _vendor = command.Parameters.Add("$vendor", SqliteType.Text);
        private readonly SqliteParameter _user = command.Parameters.Add("$user", SqliteType.Text);
        private readonly SqliteParameter _host = command.Parameters.Add("$host", SqliteType.Text);
        private readonly SqliteParameter _first = command.Parameters.Add("$first", SqliteType.Integer);
        private readonly SqliteParameter _last = command.Parameters.Add("$last", SqliteType.Integer);

        public void Set(BootClient client)
        {
            _mac.Value = client.Mac;
            _uuid.Value = (object?)client.Uuid ?? DBNull.Value;
            _arch.Value = client.Architecture is { } arch ? arch : DBNull.Value;
            _address.Value = (object?)client.Address?.ToString() ?? DBNull.Value;
            _vendor.Value = (object?)client.VendorClass ?? DBNull.Value;
            _user.Value = (object?)client.UserClass ?? DBNull.Value;
            _host.Value = (object?)client.Hostname ?? DBNull.Value;
            _first.Value = client.FirstSeen.ToUnixTimeMilliseconds();
            _last.Value = client.LastSeen.ToUnixTimeMilliseconds();
        }
    }
}
