using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;
using PxeKit.Tests.Infrastructure;

namespace PxeKit.Tests.Server.Storage;

public sealed class SqliteBootTraceStoreTests : IDisposable
{
    private const string Mac = "52:54:00:12:34:56";
    private static readonly IPAddress Address = IPAddress.Parse("192.0.2.50");

    private readonly string _directory = Directory.CreateTempSubdirectory("pxekit-traces-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-03-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly TestLogger _logger = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private SqliteBootTraceStore Open(TraceOptions? options = null, int capacity = SqliteBootTraceStore.DefaultQueueCapacity) =>
        new(options ?? new TraceOptions(), _directory, _time, _logger, capacity);

    private DateTimeOffset At(double seconds) => _time.GetUtcNow().AddSeconds(seconds);

    private static BootEvent Discover(DateTimeOffset time, bool firmware = true) =>
        new(time, BootEventKind.DhcpDiscover, Mac, null, Detail: "UEFI x64 (arch 7)") { StartsBoot = firmware };

    [Fact]
    public async Task A_client_and_its_events_come_back_from_the_file()
    {
        await using (var store = Open())
        {
            store.Seen(new BootClient
            {
                Mac = Mac, Uuid = "4c4c4544-0031-3010-8052-b3c04f4e3732", Architecture = 7, Address = Address,
                VendorClass = "PXEClient:Arch:00007:UNDI:003016", UserClass = "iPXE", LastSeen = At(0),
            });
            store.Record(Discover(At(0)));
            store.Record(new BootEvent(At(1.5), BootEventKind.TftpServed, Mac, Address, "ipxe.efi", "ipxe.efi", 1_048_576,
                TimeSpan.FromMilliseconds(250), "blksize 1468"));
        }

        var reader = new SqliteBootTraceReader(_directory);
        var traced = Assert.Single(reader.Clients());
        Assert.Equal(Mac, traced.Client.Mac);
        Assert.Equal((ushort)7, traced.Client.Architecture);
        Assert.Equal(Address, traced.Client.Address);
        Assert.Equal("4c4c4544-0031-3010-8052-b3c04f4e3732", traced.Client.Uuid);
        Assert.Equal("PXEClient:Arch:00007:UNDI:003016", traced.Client.VendorClass);
        Assert.Equal("iPXE", traced.Client.UserClass);
        Assert.Equal(At(0), traced.Client.FirstSeen);
        Assert.Equal(1, traced.Boots);

        var boot = Assert.Single(reader.Boots(Mac, 3));
        Assert.Equal([BootEventKind.DhcpDiscover, BootEventKind.TftpServed], boot.Events.Select(e => e.Kind));
        var served = boot.Events[1];
        Assert.Equal(("ipxe.efi", "ipxe.efi", 1_048_576L, TimeSpan.FromMilliseconds(250), "blksize 1468"),
            (served.Requested, served.Served, served.Bytes, served.Duration, served.Detail));
        Assert.Equal(At(1.5), served.Time);
        Assert.Equal(TimeSpan.FromSeconds(1.5), boot.End - boot.Start);
    }

    [Fact]
    public async Task An_event_without_a_mac_takes_the_mac_last_seen_with_its_address()
    {
        await using var store = Open();
        store.Seen(new BootClient { Mac = "52:54:00:00:00:01", Address = Address });
        store.Seen(new BootClient { Mac = Mac, Address = Address }); // the address moved to another client
        store.Record(new BootEvent(At(0), BootEventKind.TftpNotFound, null, Address, "pxelinux.0", Detail: "no such file"));
        await store.FlushAsync();

        Assert.Equal(Mac, store.MacForAddress(Address));
        var recorded = Assert.Single(Assert.Single(store.Boots(Mac, 1)).Events);
        Assert.Equal((Mac, "pxelinux.0", "no such file"), (recorded.Mac, recorded.Requested, recorded.Detail));
        Assert.Empty(store.Boots("52:54:00:00:00:01", 1));
    }

    [Fact]
    public async Task An_event_whose_address_no_client_was_seen_with_is_kept_under_the_address()
    {
        await using var store = Open();
        var stranger = IPAddress.Parse("192.0.2.99");
        store.Record(new BootEvent(At(0), BootEventKind.TftpServed, null, stranger, "undionly.kpxe", "undionly.kpxe", 70_000));
        store.Record(new BootEvent(At(1), BootEventKind.HttpServed, null, IPAddress.Parse("::ffff:192.0.2.99"), "/boot.ipxe"));
        await store.FlushAsync();

        var boot = Assert.Single(store.BootsWithoutMac(stranger, 5));
        Assert.Equal(["undionly.kpxe", "/boot.ipxe"], boot.Events.Select(e => e.Requested));
        Assert.All(boot.Events, e => Assert.Null(e.Mac));
        Assert.Empty(store.Clients());
    }

    [Fact]
    public async Task A_boot_starts_at_firmwares_discover_and_after_ten_minutes_of_silence_only()
    {
        await using var store = Open();
        // Boot 1: firmware DISCOVER twice (a retransmission), OFFER, REQUEST, ACK, TFTP, then iPXE's own DISCOVER.
        store.Record(Discover(At(0)));
        store.Record(Discover(At(4)));
        store.Record(new BootEvent(At(4.1), BootEventKind.DhcpOffer, Mac, Address));
        store.Record(new BootEvent(At(4.2), BootEventKind.DhcpRequest, Mac, null));
        store.Record(new BootEvent(At(4.3), BootEventKind.DhcpAck, Mac, Address));
        store.Record(new BootEvent(At(5), BootEventKind.TftpServed, Mac, Address, "ipxe.efi"));
        store.Record(Discover(At(6), firmware: false));
        store.Record(new BootEvent(At(7), BootEventKind.HttpServed, Mac, Address, "/boot.ipxe"));
        // Boot 2: the machine reboots a minute later; firmware DISCOVERs again.
        store.Record(Discover(At(70)));
        store.Record(new BootEvent(At(71), BootEventKind.TftpServed, Mac, Address, "ipxe.efi"));
        // Boot 3: after 11 minutes of silence, even an HTTP request (iPXE's sanboot retry) is a new boot.
        store.Record(new BootEvent(At(71 + 11 * 60), BootEventKind.HttpServed, Mac, Address, "/disk.img"));
        await store.FlushAsync();

        var boots = store.Boots(Mac, 10);
        Assert.Equal([8, 2, 1], boots.Select(b => b.Events.Count));
        Assert.True(boots[0].Number < boots[1].Number && boots[1].Number < boots[2].Number);
        Assert.Equal(3, store.FindClient(Mac)!.Boots);

        var lastTwo = store.Boots(Mac, 2);
        Assert.Equal(boots.Skip(1).Select(b => b.Number), lastTwo.Select(b => b.Number));
    }

    [Fact]
    public async Task A_restarted_server_remembers_clients_and_continues_the_boot_in_progress()
    {
        await using (var store = Open())
        {
            store.Seen(new BootClient { Mac = Mac, Architecture = 0, Address = Address, LastSeen = At(0) });
            store.Record(Discover(At(0)));
        }
        await using (var store = Open())
        {
            Assert.Equal((ushort)0, store.FindByMac(Mac)!.Architecture);
            Assert.Equal(Mac, store.MacForAddress(Address));
            store.Record(new BootEvent(At(30), BootEventKind.TftpServed, null, Address, "undionly.kpxe"));
            await store.FlushAsync();
            Assert.Equal(2, Assert.Single(store.Boots(Mac, 5)).Events.Count);
        }
    }

    [Fact]
    public async Task Seen_keeps_what_was_known_when_a_field_is_left_out_and_the_first_sighting()
    {
        await using var store = Open();
        store.Seen(new BootClient { Mac = "52-54-00-12-34-56", Architecture = 7, Uuid = "u", LastSeen = At(0) });
        store.Seen(new BootClient { Mac = "525400123456", UserClass = "iPXE", Address = Address, LastSeen = At(60) });

        var client = store.FindByMac("52:54:00:12:34:56")!;
        Assert.Equal((ushort)7, client.Architecture);
        Assert.Equal("u", client.Uuid);
        Assert.Equal("iPXE", client.UserClass);
        Assert.Equal((At(0), At(60)), (client.FirstSeen, client.LastSeen));
        Assert.Same(client, store.FindByMac("5254.0012.3456"));

        await store.FlushAsync();
        var stored = store.FindClient("52:54:00:12:34:56")!.Client;
        Assert.Equal((At(0), At(60), (ushort?)7, "iPXE"), (stored.FirstSeen, stored.LastSeen, stored.Architecture, stored.UserClass));
    }

    [Fact]
    public async Task Pruning_deletes_events_past_the_retention_and_beyond_the_newest_max_events()
    {
        await using var store = Open(new TraceOptions { Retention = TimeSpan.FromDays(14), MaxEvents = 5 });
        store.Seen(new BootClient { Mac = "52:54:00:00:00:09", LastSeen = At(-20 * 86400) });
        store.Record(new BootEvent(At(-20 * 86400), BootEventKind.HttpServed, "52:54:00:00:00:09", null, "/old"));
        for (var i = 0; i < 8; i++)
            store.Record(new BootEvent(At(i), BootEventKind.HttpServed, Mac, null, $"/{i}"));
        await store.PruneAsync();

        Assert.Equal(["/3", "/4", "/5", "/6", "/7"], store.EventsSince(At(-30 * 86400), 100).Select(e => e.Requested));
        // The old client has no event left and was last seen before the retention: forgotten.
        Assert.Null(store.FindClient("52:54:00:00:00:09"));
        Assert.NotNull(store.FindClient(Mac));
        Assert.True(_logger.Contains("Boot traces pruned: 4 events"), _logger.ToString());
    }

    [Fact]
    public async Task A_full_queue_drops_new_events_counts_them_and_never_blocks_the_caller()
    {
        await using var store = Open(capacity: 4);
        await store.FlushAsync(); // the writer is idle: its start-up pruning is done

        // Another connection holds the write lock, so the writer blocks in its first batch.
        using var blocker = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteBootTraceStore.FileName)};Pooling=False");
        blocker.Open();
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            begin.ExecuteNonQuery();
        }
        store.Record(new BootEvent(At(0), BootEventKind.HttpServed, Mac, null, "/taken-by-the-writer"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (store.QueuedCount > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the writer never took the first event");
            await Task.Delay(10);
        }
        for (var i = 0; i < 10; i++)
            store.Record(new BootEvent(At(i + 1), BootEventKind.HttpServed, Mac, null, $"/{i}"));
        Assert.Equal(6, store.PendingDropCount);

        using (var commit = blocker.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            commit.ExecuteNonQuery();
        }
        await store.FlushAsync();
        Assert.Equal(["/taken-by-the-writer", "/0", "/1", "/2", "/3"], store.EventsSince(At(-1), 100).Select(e => e.Requested));
        Assert.True(_logger.Contains("Boot trace queue full: 6 events dropped"), _logger.ToString());
    }

    [Fact]
    public async Task Names_a_client_chose_are_clipped_and_their_control_characters_escaped()
    {
        await using var store = Open();
        store.Record(new BootEvent(At(0), BootEventKind.TftpNotFound, Mac, null, "a\r\nforged line\u001b[31m" + new string('x', 2000)));
        store.Seen(new BootClient { Mac = Mac, VendorClass = "PXE\u0007" });
        await store.FlushAsync();

        var requested = Assert.Single(store.EventsSince(At(-1), 10)).Requested!;
        Assert.StartsWith("a\\u000D\\u000Aforged line\\u001B[31mxxx", requested, StringComparison.Ordinal);
        Assert.Equal(SqliteBootTraceStore.MaxTextLength + 5 * 3, requested.Length);
        Assert.Equal("PXE\\u0007", store.FindClient(Mac)!.Client.VendorClass);
    }

    [Fact]
    public async Task Disabled_traces_write_no_file_but_the_registry_still_answers()
    {
        await using var store = Open(new TraceOptions { Enabled = false });
        store.Seen(new BootClient { Mac = Mac, Address = Address });
        store.Record(Discover(At(0)));
        await store.FlushAsync();

        Assert.False(store.IsRecording);
        Assert.False(File.Exists(Path.Combine(_directory, SqliteBootTraceStore.FileName)));
        Assert.Equal(Mac, store.MacForAddress(Address));
        Assert.NotNull(store.FindByMac(Mac));
        Assert.Empty(store.Clients());
    }

    [Fact]
    public async Task A_data_directory_that_cannot_hold_the_file_turns_traces_off_with_a_warning_and_never_throws()
    {
        var blocked = Path.Combine(_directory, "not-a-directory");
        await File.WriteAllTextAsync(blocked, "");
        await using var store = new SqliteBootTraceStore(new TraceOptions(), blocked, _time, _logger, 16);
        store.Record(Discover(At(0)));
        store.Seen(new BootClient { Mac = Mac });

        Assert.False(store.IsRecording);
        Assert.True(_logger.Contains("Boot traces are off: cannot open"), _logger.ToString());
        Assert.NotNull(store.FindByMac(Mac));
    }

    [Theory]
    [InlineData("52:54:00:12:34:56")]
    [InlineData("52-54-00-12-34-56")]
    [InlineData("525400123456")]
    [InlineData("52:54:00:12:34:56 ")]
    [InlineData("5254.0012.3456")]
    [InlineData("52:54:0:12:34:56")]
    [InlineData("52:54:00:AB:CD:EF")]
    public void Every_usual_spelling_of_a_mac_reads_as_one_key(string spelling)
    {
        Assert.True(MacAddress.TryNormalize(spelling, out var mac));
        Assert.Equal(spelling.Contains("AB", StringComparison.Ordinal) ? "52:54:00:ab:cd:ef" : Mac, mac);
    }

    [Theory]
    [InlineData("")]
    [InlineData("52:54:00:12:34")]
    [InlineData("52:54:00:12:34:5g")]
    [InlineData("52:54-00:12:34:56")]
    [InlineData("5254001234567")]
    [InlineData("52:54:00:12:34:56:")]
    [InlineData("52::54:00:12:34:56")]
    [InlineData("${mac}")]
    [InlineData("5254.0012.345")]
    public void Text_that_is_not_a_mac_is_refused(string text) => Assert.False(MacAddress.TryNormalize(text, out _));

    [Fact]
    public async Task A_client_that_moves_leaves_no_binding_behind_so_the_address_map_stays_bounded()
    {
        await using var store = Open();
        for (var i = 1; i <= 200; i++)
            store.Seen(new BootClient { Mac = Mac, Address = System.Net.IPAddress.Parse($"10.0.{i / 256}.{i % 256}") });

        Assert.Equal(Mac, store.MacForAddress(System.Net.IPAddress.Parse("10.0.0.200")));
        Assert.Null(store.MacForAddress(System.Net.IPAddress.Parse("10.0.0.1")));
        Assert.Null(store.MacForAddress(System.Net.IPAddress.Parse("10.0.0.199")));
    }
}
