using PxeKit.Protocols.Dhcp;
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PxeKit.Server.Boot;
using PxeKit.Server.Boot.Diagnosis;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;

namespace PxeKit.Cli.Commands;

/// <summary>
/// <c>pxekit doctor</c>: checks a configuration before anything boots (the boot root, the policy, ports, other DHCP
/// servers); <c>pxekit doctor dhcp</c>: which DHCP and proxyDHCP servers answer on an interface;
/// <c>pxekit doctor trace MAC</c>: what went wrong in a client's recorded boot.
/// </summary>
internal static class DoctorCommand
{
    private const int UsageError = 2;

    private static readonly Option<string?> InterfaceOption = new("--interface")
    {
        Description = "Interface to send the DISCOVER on (e.g. eth0). Needs root: it binds UDP port 68.",
    };

    private static readonly Option<double?> WaitOption = new("--wait")
    {
        Description = "Seconds to collect answers (default 5: servers that ping before offering answer late).",
    };

    private static readonly Option<double?> ConfigWaitOption = new("--wait")
    {
        Description = "Seconds to wait for other DHCP servers when --interface or dhcp.interface is set (default 2).",
    };

    private static readonly Option<bool> NoPortsOption = new("--no-ports")
    {
        Description = "Do not try the ports serve listens on (when pxekit serve is running, they are in use by it).",
    };

    private static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Findings as JSON (severity, subject, message, fix) instead of a table.",
    };

    private static readonly Option<bool> TraceJsonOption = new("--json")
    {
        Description = "Findings as JSON (severity, subject, message, fix) instead of a table.",
    };

    private static readonly Option<int> MaxEventsOption = new("--events")
    {
        Description = "How many of the client's most recent events to read, across as many boots as they span (default 500).",
        DefaultValueFactory = _ => 500,
    };

    private static readonly Argument<string> MacArgument = new("MAC")
    {
        Description = "The client's MAC address (52:54:00:12:34:56; hyphens, dots and bare hex are accepted).",
    };

    /// <param name="openTraceReader">Opens the boot traces in a data directory, or returns null when there are none;
    /// the default opens the <c>traces.db</c> that <c>pxekit serve</c> writes there.</param>
    public static Command Create(Func<string, IBootTraceQuery?>? openTraceReader = null)
    {
        var dhcp = new Command("dhcp", "Send a PXE DISCOVER and list every DHCP and proxyDHCP server that answers, with what it offered.")
        {
            InterfaceOption, WaitOption,
        };
        dhcp.SetAction((parse, cancellation) => RunDhcpAsync(parse, cancellation));

        var trace = new Command("trace", "Explain a client's recorded boot: files under another letter case, BIOS binaries sent to UEFI machines, iPXE loops, failing transfers.")
        {
            MacArgument, TraceJsonOption, MaxEventsOption,
        };
        foreach (var option in ServeCommand.ConfigurationOptions)
            trace.Options.Add(option);
        var open = openTraceReader ?? OpenTraceStore;
        trace.SetAction(parse => RunTrace(parse, open));

        var doctor = new Command("doctor",
            "Check a configuration before anything boots: every boot file and entry file in the root as TFTP and HTTP resolve it, BIOS/UEFI mix-ups, BCD stores, ports, other DHCP servers. Exit 1 when anything will fail.")
        {
            ConfigWaitOption, NoPortsOption, JsonOption,
        };
        foreach (var option in ServeCommand.ConfigurationOptions)
            doctor.Options.Add(option);
        doctor.SetAction((parse, cancellation) => RunConfigurationAsync(parse, cancellation));
        doctor.Subcommands.Add(dhcp);
        doctor.Subcommands.Add(trace);
        return doctor;
    }

    /// <summary>The boot traces <c>pxekit serve</c> recorded in the data directory, read-only; null when there are none.</summary>
    private static IBootTraceQuery? OpenTraceStore(string dataDirectory)
    {
        var reader = new SqliteBootTraceReader(dataDirectory);
        return reader.Exists ? reader : null;
    }

    private static async Task<int> RunConfigurationAsync(ParseResult parse, CancellationToken cancellation)
    {
        var seconds = parse.GetValue(ConfigWaitOption) ?? 2;
        if (seconds is <= 0 or > 60)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"pxekit: --wait {seconds.ToString(CultureInfo.InvariantCulture)}: use 0.1 to 60 seconds");
            return UsageError;
        }
        PxeKitOptions options;
        IReadOnlyList<Finding> findings;
        try
        {
            options = ServeCommand.ResolveOptions(parse);
        }
        catch (ConfigurationException e)
        {
            // A configuration that does not load is the first finding, and the only one.
            Print(parse, parse.GetValue(JsonOption), null, [Finding.Error("configuration", e.Message, "correct it; pxekit serve would refuse to start")]);
            return 1;
        }
        findings = await ConfigurationDoctor.CheckAsync(options, new DoctorSettings
        {
            CheckPorts = !parse.GetValue(NoPortsOption),
            DhcpWait = TimeSpan.FromSeconds(seconds),
        }, cancellation);
        Print(parse, parse.GetValue(JsonOption), $"{options.ConfigFile ?? "no configuration file (defaults and flags)"}, root {Path.GetFullPath(options.Root)}", findings);
        return findings.Any(f => f.Severity == FindingSeverity.Error) ? 1 : 0;
    }

    private static int RunTrace(ParseResult parse, Func<string, IBootTraceQuery?> open)
    {
        var error = parse.InvocationConfiguration.Error;
        var text = parse.GetValue(MacArgument);
        if (!MacAddress.TryNormalize(text, out var mac))
        {
            error.WriteLine($"pxekit: '{text}' is not a MAC address (52:54:00:12:34:56)");
            return UsageError;
        }
        var maxEvents = parse.GetValue(MaxEventsOption);
        if (maxEvents is < 1 or > 100_000)
        {
            error.WriteLine($"pxekit: --events {maxEvents}: use 1 to 100000");
            return UsageError;
        }
        PxeKitOptions options;
        BootConfiguration configuration;
        try
        {
            options = ServeCommand.ResolveOptions(parse);
            configuration = BootConfiguration.Create(options, serverAddress: System.Net.IPAddress.Loopback);
        }
        catch (ConfigurationException e)
        {
            error.WriteLine("pxekit: " + e.Message);
            return UsageError;
        }
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var reader = open(dataDirectory);
        if (reader is null)
        {
            error.WriteLine($"pxekit: no boot traces in {dataDirectory}");
            return 1;
        }
        BootClient? client;
        List<BootEvent> events;
        try
        {
            client = reader.FindClient(mac)?.Client;
            events = client is null ? [] : RecentEvents(reader, mac, maxEvents);
        }
        catch (SqliteException e)
        {
            // As `pxekit trace` says it: the server runs as root and creates traces.db 0600.
            var hint = e.SqliteErrorCode == 14 ? " (SQLITE_CANTOPEN: the server runs as root and keeps it 0600; try sudo)" : "";
            error.WriteLine($"pxekit: cannot read {Path.Combine(dataDirectory, SqliteBootTraceReader.FileName)}: {e.Message.TrimEnd('.')}{hint}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"pxekit: cannot read {Path.Combine(dataDirectory, SqliteBootTraceReader.FileName)}: {e.Message}{(e is UnauthorizedAccessException ? " (the server runs as root and keeps it 0600; try sudo)" : "")}");
            return 1;
        }
        if (client is null)
        {
            error.WriteLine($"pxekit: no boot traces of {mac} in {dataDirectory}");
            return 1;
        }
        var findings = TraceDiagnosis.Explain(client, events, configuration.Files);
        Print(parse, parse.GetValue(TraceJsonOption), $"boot trace of {mac}, root {configuration.Files.Root}", findings);
        return findings.Any(f => f.Severity == FindingSeverity.Error) ? 1 : 0;
    }

    /// <summary>The client's newest events, oldest first, at most <paramref name="maxEvents"/>, across its boots.</summary>
    private static List<BootEvent> RecentEvents(IBootTraceQuery reader, string mac, int maxEvents)
    {
        // Boots are read newest first in doubling batches until they hold maxEvents events, the client has no older
        // boots, or there are as many boots as events asked for (every boot has at least one event).
        for (var boots = Math.Min(50, maxEvents); ; boots = Math.Min(boots * 2, maxEvents))
        {
            var read = reader.Boots(mac, boots);
            var events = read.SelectMany(boot => boot.Events).ToList();
            if (events.Count >= maxEvents || read.Count < boots || boots >= maxEvents)
                return events.Count > maxEvents ? events[^maxEvents..] : events;
        }
    }

    private static string SeverityName(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Ok => "ok",
        FindingSeverity.Info => "info",
        FindingSeverity.Warning => "warning",
        _ => "error",
    };

    /// <summary>One line per finding (severity, subject, message - fix) and a count; or the same as JSON.</summary>
    private static void Print(ParseResult parse, bool json, string? heading, IReadOnlyList<Finding> findings)
    {
        var output = parse.InvocationConfiguration.Output;
        int Count(FindingSeverity s) => findings.Count(f => f.Severity == s);
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("checked", heading);
                writer.WriteNumber("errors", Count(FindingSeverity.Error));
                writer.WriteNumber("warnings", Count(FindingSeverity.Warning));
                writer.WriteStartArray("findings");
                foreach (var finding in findings)
                {
                    writer.WriteStartObject();
                    writer.WriteString("severity", SeverityName(finding.Severity));
                    writer.WriteString("subject", finding.Subject);
                    writer.WriteString("message", finding.Message);
                    writer.WriteString("fix", finding.Fix);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return;
        }
        if (heading is not null)
            output.WriteLine("pxekit doctor: " + heading);
        var width = Math.Min(findings.Select(f => f.Subject.Length).DefaultIfEmpty(0).Max(), 40);
        foreach (var finding in findings)
        {
            var line = $"{SeverityName(finding.Severity),-7}  {finding.Subject.PadRight(width)}  {finding.Message}";
            output.WriteLine(finding.Fix is null ? line : $"{line} - {finding.Fix}");
        }
        static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
        output.WriteLine($"{Plural(Count(FindingSeverity.Error), "error")}, {Plural(Count(FindingSeverity.Warning), "warning")}, {Count(FindingSeverity.Ok)} ok");
    }

    private static async Task<int> RunDhcpAsync(ParseResult parse, CancellationToken cancellation)
    {
        var nic = parse.GetValue(InterfaceOption);
        var seconds = parse.GetValue(WaitOption) ?? DhcpNeighbours.DefaultWait.TotalSeconds;
        if (seconds is <= 0 or > 60)
        {
            await Console.Error.WriteLineAsync($"pxekit: --wait {seconds.ToString(CultureInfo.InvariantCulture)}: use 0.1 to 60 seconds");
            return UsageError;
        }
        if (nic is not null && !System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Any(n => n.Name == nic))
        {
            await Console.Error.WriteLineAsync($"pxekit: --interface {nic}: no network interface has this name (see `ip link`)");
            return UsageError;
        }
        IReadOnlyList<PxeKit.Protocols.Dhcp.DhcpServerAnswer> answers;
        try
        {
            answers = await DhcpNeighbours.ProbeAsync(nic, TimeSpan.FromSeconds(seconds), cancellation);
        }
        catch (SocketException e)
        {
            var hint = e.SocketErrorCode == SocketError.AccessDenied ? " (binding port 68 and an interface needs root)" : "";
            await Console.Error.WriteLineAsync($"pxekit: cannot send a DHCP DISCOVER on {nic ?? "the default interface"}: {e.Message}{hint}");
            return 1;
        }
        catch (PlatformNotSupportedException e)
        {
            await Console.Error.WriteLineAsync("pxekit: " + e.Message);
            return 1;
        }

        var lines = new List<string> { $"DHCP servers answering a PXE DISCOVER on {nic ?? "the default interface"} within {seconds.ToString(CultureInfo.InvariantCulture)} s:" };
        foreach (var answer in answers)
            lines.Add("  " + answer);
        var addressServers = answers.Where(a => !a.IsProxy).Select(a => a.Server.ToString()).Distinct().ToList();
        lines.Add(answers.Count == 0 ? "  none"
            : addressServers.Count == 0 ? "No server hands out addresses here: PXE clients get none (proxy mode needs one; or use --dhcp full)."
            : addressServers.Count == 1 ? $"Addresses come from {addressServers[0]}: run PxeKit as proxyDHCP (--dhcp proxy) beside it."
            : $"WARNING: {addressServers.Count} servers hand out addresses ({string.Join(", ", addressServers)}): clients get conflicting leases.");
        if (PortSixtySevenLine(nic) is { } port67)
            lines.Add(port67);
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        return 0;
    }

    /// <summary>Whether PxeKit's proxy mode could share udp 67 on this host with the server that holds it; null
    /// when nothing holds it (or the port cannot be tried: not root).</summary>
    private static string? PortSixtySevenLine(string? nic)
    {
        DhcpPort67 port67;
        try
        {
            port67 = DhcpPortSharing.Probe(DhcpMode.Proxy, DhcpLimits.ServerPort, nic);
        }
        catch (SocketException)
        {
            return null;
        }
        return DhcpPortSharing.Describe(port67, DhcpLimits.ServerPort, DhcpLimits.PxeBootServerPort) is { } sharing
            ? $"On this host, {sharing}." + (port67 == DhcpPort67.Unavailable ? " To send them here: " + DhcpPortSharing.OptionSixtyHint : "")
            : null;
    }
}
