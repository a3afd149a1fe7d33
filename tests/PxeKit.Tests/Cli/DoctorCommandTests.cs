using System.CommandLine;
using System.Text.Json;
using PxeKit.Cli.Commands;
using PxeKit.Server.Boot;

namespace PxeKit.Tests.Cli;

/// <summary>`pxekit doctor` parsed and run exactly as the executable does, against a configuration in a temporary directory.</summary>
public sealed class DoctorCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pxekit-doctor-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Root => Path.Combine(directory, "boot");

    private static (int Code, string Output, string Error) Run(RootCommand command, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = command.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => Run(PxeKit.Cli.Program.BuildRootCommand(), args);

    private string Config(string yaml)
    {
        Directory.CreateDirectory(Root);
        var path = Path.Combine(directory, "pxekit.yaml");
        File.WriteAllText(path, $"root: {Root}\ndata-dir: {Path.Combine(directory, "data")}\nipxe: {{source-dir: {Path.Combine(directory, "none")}}}\n" + yaml);
        return path;
    }

    private const string BrokenWinpe = """
        tftp: {case-insensitive: false}
        boot:
          default: winpe
          entries:
            winpe: {kind: wimboot, bcd: Boot/BCD, boot-wim: sources/boot.wim}
        """;

    [Fact]
    public void Doctor_without_a_subcommand_checks_the_configuration_and_exits_1_on_an_error()
    {
        var config = Config(BrokenWinpe);
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "boot")).FullName, "bcd"), [1, 2, 3]);

        var (code, output, error) = Run("doctor", "-c", config, "--no-ports");

        Assert.Equal(1, code);
        Assert.Equal("", error);
        Assert.StartsWith($"pxekit doctor: {config}, root {Root}", output, StringComparison.Ordinal);
        Assert.Contains(@"asked for \Boot\BCD: not found; boot/bcd exists - enable case-insensitive lookup (tftp.case-insensitive: true) or rename boot/bcd to Boot/BCD", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^error\s+wimboot entry winpe\s+asked for \\sources\\boot.wim: not in ", output);
    }

    [Fact]
    public void A_clean_configuration_exits_0()
    {
        var config = Config("boot:\n  default: disk\n  entries: {disk: {kind: local}}\n");
        File.WriteAllBytes(Path.Combine(Root, "undionly.kpxe"), [0xEB, 0x3C]);
        foreach (var name in new[] { "ipxe.efi", "snponly.efi" })
            File.WriteAllBytes(Path.Combine(Root, name), "MZ"u8.ToArray());

        var (code, output, _) = Run("doctor", "-c", config, "--no-ports");

        Assert.Equal(0, code);
        Assert.DoesNotContain("error ", output, StringComparison.Ordinal);
        Assert.EndsWith("0 errors, 0 warnings, 3 ok" + Environment.NewLine, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_output_has_every_finding_with_severity_subject_message_and_fix()
    {
        var config = Config(BrokenWinpe);
        var (code, output, _) = Run("doctor", "-c", config, "--no-ports", "--json");

        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("errors").GetInt32() > 0);
        var finding = json.RootElement.GetProperty("findings").EnumerateArray()
            .First(f => f.GetProperty("message").GetString()!.Contains("sources\\boot.wim", StringComparison.Ordinal));
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.Equal("wimboot entry winpe", finding.GetProperty("subject").GetString());
        Assert.Contains("correct boot.entries.winpe", finding.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_override_the_configuration_like_serve_does()
    {
        var config = Config("");
        var other = Directory.CreateTempSubdirectory("pxekit-doctor-other-").FullName;
        try
        {
            var (_, output, _) = Run("doctor", "-c", config, "--no-ports", "--root", other);
            Assert.Contains($"root {other}", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(other);
        }
    }

    [Fact]
    public void A_configuration_that_does_not_load_is_one_error_and_exit_1()
    {
        var config = Config("tftp:\n  windowsize: 16\n");
        var (code, output, _) = Run("doctor", "-c", config);
        Assert.Equal(1, code);
        Assert.Matches(@"(?m)^error\s+configuration\s+pxekit.yaml line \d+: unknown key 'tftp.windowsize'", output);
    }

    [Fact]
    public void Doctor_dhcp_is_still_a_subcommand() =>
        Assert.Contains(PxeKit.Cli.Program.BuildRootCommand().Subcommands.Single(c => c.Name == "doctor").Subcommands, c => c.Name == "dhcp");

    [Fact]
    public void Doctor_trace_without_a_trace_store_says_so_and_exits_1()
    {
        var config = Config("");
        var (code, _, error) = Run("doctor", "trace", "52-54-00-12-34-56", "-c", config);
        Assert.Equal(1, code);
        Assert.Equal($"pxekit: no boot traces in {Path.Combine(directory, "data")}" + Environment.NewLine, error);
    }

    [Fact]
    public void Doctor_trace_refuses_what_is_not_a_mac() =>
        Assert.Equal(2, Run("doctor", "trace", "not-a-mac").Code);

    [Fact]
    public async Task Doctor_trace_explains_a_clients_boot_recorded_in_the_data_directory()
    {
        var config = Config("");
        const string mac = "52:54:00:12:34:56";
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using (var store = new PxeKit.Server.Storage.SqliteBootTraceStore(new PxeKit.Server.Options.TraceOptions(),
            Path.Combine(directory, "data"), time, new PxeKit.Tests.Infrastructure.TestLogger(), 1024))
        {
            store.Seen(new BootClient { Mac = mac, Architecture = 7, FirstSeen = time.GetUtcNow(), LastSeen = time.GetUtcNow() });
            store.Record(new BootEvent(time.GetUtcNow(), BootEventKind.ProxyOffer, mac, null, Served: "undionly.kpxe") { StartsBoot = true });
            await store.FlushAsync();
        }

        var (code, output, _) = Run("doctor", "trace", "52:54:00:12:34:56", "-c", config);
        Assert.Equal(1, code);
        Assert.Contains("client got undionly.kpxe but is UEFI x64", output, StringComparison.Ordinal);

        var (unknownCode, _, error) = Run("doctor", "trace", "52:54:00:00:00:01", "-c", config);
        Assert.Equal(1, unknownCode);
        Assert.Contains("no boot traces of 52:54:00:00:00:01", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_trace_on_a_traces_db_that_is_not_a_database_says_so_in_one_sentence_and_exits_1()
    {
        var config = Config("");
        var data = Directory.CreateDirectory(Path.Combine(directory, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "traces.db"), [.. Enumerable.Repeat((byte)0x5A, 4096)]);

        var (code, output, error) = Run("doctor", "trace", "52:54:00:12:34:56", "-c", config);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Matches($@"^pxekit: cannot read {System.Text.RegularExpressions.Regex.Escape(Path.Combine(data, "traces.db"))}: .*not a database[^\n]*\n$", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Doctor_trace_on_a_traces_db_it_may_not_open_says_try_sudo_and_exits_1()
    {
        // Tests run as root, where a 0600 file opens anyway: the reader fails as SQLite fails for another user.
        var config = Config("");
        var trace = new FakeTraces(() => throw new Microsoft.Data.Sqlite.SqliteException("SQLite Error 14: 'unable to open database file'.", 14));

        var (code, _, error) = Run(new RootCommand { DoctorCommand.Create(_ => trace) }, "doctor", "trace", "52:54:00:12:34:56", "-c", config);

        Assert.Equal(1, code);
        Assert.Equal($"pxekit: cannot read {Path.Combine(directory, "data", "traces.db")}: SQLite Error 14: 'unable to open database file' (SQLITE_CANTOPEN: the server runs as root and keeps it 0600; try sudo)" + Environment.NewLine, error);
    }

    [Fact]
    public void Doctor_trace_reads_as_many_boots_as_the_events_asked_for_span()
    {
        // 400 boots of 5 events: --events 1000 needs the newest 200 boots, more than the 50 read before.
        var config = Config("");
        var trace = new FakeTraces(null, boots: 400, eventsPerBoot: 5);

        Run(new RootCommand { DoctorCommand.Create(_ => trace) }, "doctor", "trace", "52:54:00:12:34:56", "-c", config, "--events", "1000");

        Assert.True(trace.EventsRead >= 1000, $"{trace.EventsRead} events read");
        Assert.True(trace.EventsRead < 2000, $"{trace.EventsRead} events read: far more boots than needed");
    }

    private sealed class FakeTraces(Action? fail, int boots = 1, int eventsPerBoot = 1) : IBootTraceQuery
    {
        private const string Mac = "52:54:00:12:34:56";

        public int EventsRead { get; private set; }

        public TracedClient? FindClient(string mac)
        {
            fail?.Invoke();
            return new TracedClient(new BootClient { Mac = Mac, Architecture = 0, FirstSeen = DateTimeOffset.UnixEpoch, LastSeen = DateTimeOffset.UnixEpoch }, boots);
        }

        public IReadOnlyList<TracedBoot> Boots(string mac, int count)
        {
            var newest = Enumerable.Range(Math.Max(0, boots - count), Math.Min(count, boots)).Select(number => new TracedBoot(number,
                [.. Enumerable.Range(0, eventsPerBoot).Select(i => new BootEvent(DateTimeOffset.UnixEpoch.AddMinutes(number * 20 + i), BootEventKind.ProxyOffer, Mac, null, Served: "undionly.kpxe") { StartsBoot = i == 0 })])).ToList();
            EventsRead = newest.Sum(b => b.Events.Count);
            return newest;
        }

        public IReadOnlyList<TracedClient> Clients() => throw new NotSupportedException();

        public IReadOnlyList<TracedBoot> BootsWithoutMac(System.Net.IPAddress address, int count) => throw new NotSupportedException();

        public IReadOnlyList<BootEvent> EventsSince(DateTimeOffset since, int limit) => throw new NotSupportedException();
    }
}
