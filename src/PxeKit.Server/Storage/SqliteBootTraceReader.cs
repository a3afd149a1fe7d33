using System.Net;
using Microsoft.Data.Sqlite;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Storage;

/// <summary>
/// Reads <c>traces.db</c> read-only, while the server may be writing it (WAL: readers see the last committed batch
/// and never block the writer). Each query opens its own connection, so one reader serves any thread. SQLite errors
/// (no permission, not a traces database) surface as <see cref="SqliteException"/> for the caller to put in words.
/// </summary>
public sealed class SqliteBootTraceReader(string dataDirectory) : IBootTraceQuery
{
    public const string FileName = "traces.db";

    private const string EventColumns = "time, kind, mac, address, requested, served, bytes, duration_us, detail, boot";
    private const string ClientColumns = "mac, uuid, arch, address, vendor_class, user_class, hostname, first_seen, last_seen";

    public string Path { get; } = System.IO.Path.Combine(dataDirectory, FileName);

    /// <summary>Whether the server has ever recorded traces into this data directory.</summary>
    public bool Exists => File.Exists(Path);

    public IReadOnlyList<TracedClient> Clients()
    {
        using var connection = Open();
        return ReadClients(connection, int.MaxValue, withBoots: true);
    }

    public TracedClient? FindClient(string mac)
    {
        if (!MacAddress.TryNormalize(mac, out var normal))
            return null;
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {ClientColumns}, (SELECT count(DISTINCT boot) FROM events WHERE events.mac = clients.mac) FROM clients WHERE mac = $mac";
        command.Parameters.AddWithValue("$mac", normal);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new TracedClient(ReadClient(reader), reader.GetInt32(9)) : null;
    }

    public IReadOnlyList<TracedBoot> Boots(string mac, int count)
    {
        if (!MacAddress.TryNormalize(mac, out var normal) || count <= 0)
            return [];
        using var connection = Open();
        return ReadBoots(connection, "mac = $key", normal, count);
    }

    public IReadOnlyList<TracedBoot> BootsWithoutMac(IPAddress address, int count)
    {
        if (count <= 0)
            return [];
        using var connection = Open();
        return ReadBoots(connection, "mac IS NULL AND address = $key", address.ToString(), count);
    }

    public IReadOnlyList<BootEvent> EventsSince(DateTimeOffset since, int limit)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {EventColumns} FROM events WHERE time >= $since ORDER BY time DESC, id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", Math.Max(0, limit));
        var events = new List<BootEvent>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (ReadEvent(reader) is { } bootEvent)
                    events.Add(bootEvent);
            }
        }
        events.Reverse();
        return events;
    }

    private SqliteConnection Open()
    {
        if (!Exists)
            throw new FileNotFoundException($"{Path} does not exist", Path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static List<TracedBoot> ReadBoots(SqliteConnection connection, string where, string key, int count)
    {
        using var command = connection.CreateCommand();
        // The newest N boot numbers, then their events in order: two indexed range reads.
        command.CommandText = $"""
            SELECT {EventColumns} FROM events
            WHERE {where} AND boot >= coalesce((SELECT min(boot) FROM (SELECT DISTINCT boot FROM events WHERE {where} ORDER BY boot DESC LIMIT $count)), 0)
            ORDER BY boot, time, id
            """;
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$count", count);
        var boots = new List<TracedBoot>();
        List<BootEvent>? events = null;
        long current = -1;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (ReadEvent(reader) is not { } bootEvent)
                continue;
            var boot = reader.GetInt64(9);
            if (boot != current || events is null)
            {
                events = [];
                boots.Add(new TracedBoot(boot, events));
                current = boot;
            }
            events.Add(bootEvent);
        }
        return boots;
    }

    internal static List<TracedClient> ReadClients(SqliteConnection connection, int limit, bool withBoots)
    {
        using var command = connection.CreateCommand();
        var boots = withBoots ? "(SELECT count(DISTINCT boot) FROM events WHERE events.mac = clients.mac)" : "0";
        command.CommandText = $"SELECT {ClientColumns}, {boots} FROM clients ORDER BY last_seen DESC, mac LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        var clients = new List<TracedClient>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            clients.Add(new TracedClient(ReadClient(reader), reader.GetInt32(9)));
        return clients;
    }

    /// <summary>A row this program could not have written (a bad address, an architecture out of range) reads as
    /// absent values, never as an exception: the file may have been edited by hand.</summary>
    private static BootClient ReadClient(SqliteDataReader reader) => new()
    {
        Mac = reader.GetString(0),
        Uuid = Text(reader, 1),
        Architecture = reader.IsDBNull(2) || reader.GetInt64(2) is < 0 or > ushort.MaxValue ? null : (ushort)reader.GetInt64(2),
        Address = Address(reader, 3),
        VendorClass = Text(reader, 4),
        UserClass = Text(reader, 5),
        Hostname = Text(reader, 6),
        FirstSeen = Time(reader, 7),
        LastSeen = Time(reader, 8),
    };

    /// <summary>The event of the current row; null for a kind this build does not know (written by a newer one).</summary>
    private static BootEvent? ReadEvent(SqliteDataReader reader) => !Enum.TryParse<BootEventKind>(reader.GetString(1), out var kind) ? null : new(
        Time(reader, 0),
        kind,
        Text(reader, 2),
        Address(reader, 3),
        Text(reader, 4),
        Text(reader, 5),
        reader.GetInt64(6),
        TimeSpan.FromMicroseconds(Math.Clamp(reader.GetInt64(7), 0, (long)TimeSpan.MaxValue.TotalMicroseconds)),
        Text(reader, 8));

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static IPAddress? Address(SqliteDataReader reader, int i) =>
        reader.IsDBNull(i) || !IPAddress.TryParse(reader.GetString(i), out var address) ? null : address;

    private static DateTimeOffset Time(SqliteDataReader reader, int i) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(reader.GetInt64(i), 0, 253402300799999));
}
