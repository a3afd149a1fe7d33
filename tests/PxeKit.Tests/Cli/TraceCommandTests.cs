using System.CommandLine;
using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;
using PxeKit.Tests.Infrastructure;

namespace PxeKit.Tests.Cli;

/// <summary>`pxekit clients` and `pxekit trace` parsed and run as the executable does, on a traces.db written by the store.</summary>
public sealed class TraceCommandTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-03-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly string _directory = Directory.CreateTempSubdirectory("pxekit-trace-cli-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = PxeKit.Cli.Program.BuildRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private async Task RecordBootsAsync()
    {
        await using var store = new SqliteBootTraceStore(new TraceOptions(), _directory, TimeProvider.System, new TestLogger(), 1024);
        store.Seen(new BootClient
        {
            Mac = "52:54:00:12:34:56", Architecture = 7, Address = IPAddress.Parse("192.0.2.100"), Uuid = "4c4c4544-0031-3010-8052-b3c04f4e3732",
            VendorClass = "PXEClient:Arch:00007:UNDI:003016", UserClass = "iPXE", LastSeen = Start,
        });
        for (var boot = 0; boot < 4; boot++)
        {
            var t = Start.AddMinutes(boot * 30);
            store.Record(new BootEvent(t, BootEventKind.DhcpDiscover, "52:54:00:12:34:56", null, Detail: "UEFI x64 (arch 7), PXE") { StartsBoot = true });
            store.Record(new BootEvent(t.AddSeconds(0.5), BootEventKind.DhcpAck, "52:54:00:12:34:56", IPAddress.Parse("192.0.2.100"), Served: "ipxe.efi"));
            store.Record(new BootEvent(t.AddSeconds(1.25), BootEventKind.TftpServed, "52:54:00:12:34:56", IPAddress.Parse("192.0.2.100"),
                "ipxe.efi", "ipxe.efi", 2 * 1048576, TimeSpan.FromSeconds(0.5), "blksize 1468, windowsize 1, 0 retransmissions"));
        }
        store.Record(new BootEvent(Start, BootEventKind.TftpNotFound, null, IPAddress.Parse("192.0.2.200"), "pxelinux.0", Detail: "no such file"));
    }

    [Fact]
    public async Task Clients_prints_an_aligned_table_of_every_known_client()
    {
        await RecordBootsAsync();
        var (code, output, error) = Run("clients", "--data-dir", _directory);

        Assert.Equal((0, ""), (code, error));
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("MAC                ARCH      ADDRESS      UUID                                  VENDOR CLASS ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("52:54:00:12:34:56  UEFI x64  192.0.2.100  4c4c4544-0031-3010-8052-b3c04f4e3732  PXEClient:Arch:00007:UNDI:003016  iPXE ", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("  4", lines[1], StringComparison.Ordinal);
        Assert.Equal(lines[0].IndexOf("LAST SEEN", StringComparison.Ordinal), lines[1].IndexOf(TimeText(Start.AddMinutes(90).AddSeconds(1.25)), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Clients_as_json_names_every_field()
    {
        await RecordBootsAsync();
        var (code, output, _) = Run("clients", "--data-dir", _directory, "--json");

        Assert.Equal(0, code);
        var client = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal("52:54:00:12:34:56", client.GetProperty("mac").GetString());
        Assert.Equal(7, client.GetProperty("architecture").GetInt32());
        Assert.Equal("UEFI x64", client.GetProperty("architectureName").GetString());
        Assert.Equal("192.0.2.100", client.GetProperty("address").GetString());
        Assert.Equal("iPXE", client.GetProperty("userClass").GetString());
        Assert.Equal(4, client.GetProperty("boots").GetInt32());
        Assert.Equal(Start, client.GetProperty("firstSeen").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("52:54:00:12:34:56")]
    [InlineData("52-54-00-12-34-56")]
    [InlineData("525400123456")]
    [InlineData("5254.0012.3456")]
    public async Task Trace_shows_the_last_three_boots_as_a_timeline_for_any_spelling_of_the_mac(string mac)
    {
        await RecordBootsAsync();
        var (code, output, error) = Run("trace", mac, "--data-dir", _directory);

        Assert.Equal((0, ""), (code, error));
        Assert.StartsWith("52:54:00:12:34:56  UEFI x64  192.0.2.100  uuid 4c4c4544-0031-3010-8052-b3c04f4e3732  user class iPXE: 4 boots in the trace, the last 3 shown\n", output, StringComparison.Ordinal);
        Assert.Equal(3, output.Split("\nBoot ").Length - 1);
        Assert.Contains($", {TimeText(Start.AddMinutes(90))}, 1.25 s, 3 events\n", output, StringComparison.Ordinal);
        Assert.Contains("  +0.00s  DHCP DISCOVER  -         -                                 UEFI x64 (arch 7), PXE\n", output, StringComparison.Ordinal);
        Assert.Contains("  +0.50s  DHCP ACK       -         -> ipxe.efi\n", output, StringComparison.Ordinal);
        Assert.Contains("  +1.25s  TFTP           ipxe.efi  -> ipxe.efi  2.0 MiB at 4.2 MB/s  blksize 1468, windowsize 1, 0 retransmissions\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_as_json_gives_the_requested_number_of_boots_with_offsets()
    {
        await RecordBootsAsync();
        var (code, output, _) = Run("trace", "52:54:00:12:34:56", "--data-dir", _directory, "--boots", "1", "--json");

        Assert.Equal(0, code);
        var root = JsonDocument.Parse(output).RootElement;
        var boot = Assert.Single(root.GetProperty("boots").EnumerateArray());
        var events = boot.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["DhcpDiscover", "DhcpAck", "TftpServed"], events.Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal(1.25, events[2].GetProperty("offsetSeconds").GetDouble());
        Assert.Equal(2 * 1048576, events[2].GetProperty("bytes").GetInt64());
        Assert.Equal(4, root.GetProperty("client").GetProperty("boots").GetInt32());
    }

    [Fact]
    public async Task Trace_of_an_address_shows_the_events_no_mac_was_known_for()
    {
        await RecordBootsAsync();
        var (code, output, _) = Run("trace", "192.0.2.200", "--data-dir", _directory);
        Assert.Equal(0, code);
        Assert.Contains("TFTP not found  pxelinux.0  -    no such file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_mac_is_one_sentence_and_exit_code_1()
    {
        await RecordBootsAsync();
        var (code, output, error) = Run("trace", "52:54:00:99:99:99", "--data-dir", _directory);
        Assert.Equal((1, ""), (code, output));
        Assert.Equal($"pxekit: 52:54:00:99:99:99 is not in the boot traces of {_directory} (`pxekit clients` lists the clients it knows)\n", error);
    }

    [Fact]
    public void A_data_directory_where_nothing_has_booted_gives_json_an_empty_list_and_exit_code_0()
    {
        Assert.Equal((0, "[]\n", ""), Run("clients", "--json", "--data-dir", _directory));
        Assert.Equal((0, "[]\n", ""), Run("trace", "52:54:00:12:34:56", "--json", "--data-dir", _directory));
        Assert.Equal((0, "[]\n", ""), Run("trace", "192.0.2.100", "--json", "--data-dir", _directory));
    }

    [Fact]
    public void A_data_directory_where_nothing_has_booted_is_one_line_in_the_table()
    {
        var sentence = $"No client has booted from this server yet (no boot traces in {_directory}).";
        Assert.Equal((0, sentence + "\n", ""), Run("clients", "--data-dir", _directory));
        Assert.Equal((1, "", "pxekit: " + sentence + "\n"), Run("trace", "52:54:00:12:34:56", "--data-dir", _directory));
    }

    [Fact]
    public async Task A_trace_store_without_clients_counts_as_nothing_booted_yet()
    {
        // serve creates traces.db at start; until a client boots it holds no client.
        await using (new SqliteBootTraceStore(new TraceOptions(), _directory, TimeProvider.System, new TestLogger(), 1024))
        {
        }
        Assert.True(File.Exists(Path.Combine(_directory, "traces.db")));
        Assert.Equal((0, "[]\n", ""), Run("clients", "--json", "--data-dir", _directory));
        Assert.Equal((0, "[]\n", ""), Run("trace", "52:54:00:12:34:56", "--json", "--data-dir", _directory));
    }

    [Fact]
    public void A_data_directory_that_does_not_exist_is_one_sentence_and_exit_code_1()
    {
        var missing = Path.Combine(_directory, "no-such-dir");
        var sentence = $"pxekit: no boot traces in {missing}: the directory does not exist (is it the data directory `pxekit serve` uses? see --data-dir)\n";
        Assert.Equal((1, "", sentence), Run("clients", "--data-dir", missing));
        Assert.Equal((1, "", sentence), Run("clients", "--json", "--data-dir", missing));
        Assert.Equal((1, "", sentence), Run("trace", "52:54:00:12:34:56", "--json", "--data-dir", missing));
    }

    [Fact]
    public async Task The_data_directory_comes_from_the_configuration_file_like_serve()
    {
        await RecordBootsAsync();
        var config = Path.Combine(_directory, "pxekit.yaml");
        await File.WriteAllTextAsync(config, $"data-dir: {_directory}\n");
        var (code, output, _) = Run("clients", "-c", config);
        Assert.Equal(0, code);
        Assert.Contains("52:54:00:12:34:56", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-mac", "pxekit: 'not-a-mac' is neither a MAC address (such as 52:54:00:12:34:56) nor an IP address\n")]
    [InlineData("52:54:00:12:34:56 --boots 0", "pxekit: --boots 0: use 1 to 1000\n")]
    public void A_mistake_in_the_arguments_is_exit_code_2(string arguments, string message)
    {
        var (code, _, error) = Run(["trace", .. arguments.Split(' ')]);
        Assert.Equal((2, message), (code, error));
    }

    private static string TimeText(DateTimeOffset time) =>
        time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
