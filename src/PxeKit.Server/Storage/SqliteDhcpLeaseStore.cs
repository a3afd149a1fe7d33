using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Storage;

/// <summary>
/// DHCP leases in SQLite (<c>leases.db</c> in the data directory). WAL with synchronous=FULL makes each commit
/// durable when it returns; one writer drains a queue and commits every lease waiting in it in one transaction, so
/// a PXE storm costs one fsync per batch, not per ACK, and each ACK still waits for its own commit.
/// </summary>
public sealed class SqliteDhcpLeaseStore : IDhcpLeaseStore, IAsyncDisposable
{
    public const string FileName = "leases.db";

    /// <summary>Leases per transaction at most: bounds the latency of the first ACK of a burst.</summary>
    private const int MaxBatch = 256;

    private readonly SqliteConnection _connection;
    private readonly Channel<(DhcpLease Lease, TaskCompletionSource Done)> _queue =
        Channel.CreateBounded<(DhcpLease, TaskCompletionSource)>(new BoundedChannelOptions(4096) { SingleReader = true });
    private readonly Thread _writer;

    public SqliteDhcpLeaseStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // we run as root: 0600 (D22)
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL");
        Execute("""
            CREATE TABLE IF NOT EXISTS dhcp_leases (
                address     TEXT PRIMARY KEY,
                mac         TEXT NOT NULL,
                expires     INTEGER NOT NULL,
                state       INTEGER NOT NULL,
                host_name   TEXT,
                client_id   TEXT
            )
            """);
        // A thread of its own: each commit blocks in fsync, and on a two-core machine a thread-pool thread blocked
        // there starves the receive loop until the pool grows (stalls of 100+ ms were measured with Task.Run).
        _writer = new Thread(Write) { IsBackground = true, Name = "PxeKit DHCP lease writer" };
        _writer.Start();
    }

    public IReadOnlyList<DhcpLease> Load()
    {
        var leases = new List<DhcpLease>();
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT address, mac, expires, state, host_name, client_id FROM dhcp_leases";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            // A row this program could not have written is skipped, not fatal: the server always restarts (D20).
            if (!IPAddress.TryParse(reader.GetString(0), out var address) || reader.GetInt32(3) is < 0 or > 2)
                continue;
            leases.Add(new DhcpLease(
                address, reader.GetString(1), DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(reader.GetInt64(2), 0, 253402300799)),
                (DhcpLeaseState)reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return leases;
    }

    public Task SaveAsync(DhcpLease lease, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((lease, done)))
            return SaveSlowAsync(lease, done, cancellationToken);
        return done.Task;
    }

    private async Task SaveSlowAsync(DhcpLease lease, TaskCompletionSource done, CancellationToken cancellationToken)
    {
        await _queue.Writer.WriteAsync((lease, done), cancellationToken);
        await done.Task;
    }

    private void Write()
    {
        var batch = new List<(DhcpLease Lease, TaskCompletionSource Done)>(MaxBatch);
        using var upsert = _connection.CreateCommand();
        upsert.CommandText = """
            INSERT INTO dhcp_leases (address, mac, expires, state, host_name, client_id)
            VALUES ($address, $mac, $expires, $state, $host, $client)
            ON CONFLICT(address) DO UPDATE SET mac = excluded.mac, expires = excluded.expires, state = excluded.state,
                host_name = excluded.host_name, client_id = excluded.client_id
            """;
        var pAddress = upsert.Parameters.Add("$address", SqliteType.Text);
        var pMac = upsert.Parameters.Add("$mac", SqliteType.Text);
        var pExpires = upsert.Parameters.Add("$expires", SqliteType.Integer);
        var pState = upsert.Parameters.Add("$state", SqliteType.Integer);
        var pHost = upsert.Parameters.Add("$host", SqliteType.Text);
        var pClient = upsert.Parameters.Add("$client", SqliteType.Text);

        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                batch.Add(item);
            try
            {
                using var transaction = _connection.BeginTransaction();
                upsert.Transaction = transaction;
                foreach (var (lease, _) in batch)
                {
                    pAddress.Value = lease.Address.ToString();
                    pMac.Value = lease.HardwareAddress;
                    pExpires.Value = lease.Expires.ToUnixTimeSeconds();
                    pState.Value = (int)lease.State;
                    pHost.Value = (object?)lease.HostName ?? DBNull.Value;
                    // Client identifiers are up to 255 bytes (510 hex digits); stored capped so no row grows without
                    // bound (hostile-inputs D6).
                    pClient.Value = lease.ClientId is { } id ? id[..Math.Min(id.Length, 510)] : DBNull.Value;
                    upsert.ExecuteNonQuery();
                }
                transaction.Commit();
                foreach (var (_, done) in batch)
                    done.TrySetResult();
            }
            catch (SqliteException e)
            {
                foreach (var (_, done) in batch)
                    done.TrySetException(e);
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.Run(_writer.Join);
        await _connection.DisposeAsync();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SQLite {_connection.DataSource}");
}
