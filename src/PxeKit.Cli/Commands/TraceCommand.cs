using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using PxeKit.Server.Boot;
using PxeKit.Server.Storage;

namespace PxeKit.Cli.Commands;

/// <summary><c>pxekit trace MAC</c>: a client's last boots, step by step, as the server recorded them.</summary>
internal static class TraceCommand
{
    private const int DefaultBoots = 3;
    private const int MaxBoots = 1000;

    public static Command Create()
    {
        var client = new Argument<string>("client")
        {
            Description = "The client's MAC in any usual spelling (52:54:00:12:34:56, 52-54-00-12-34-56, 525400123456), or an IP address for events no MAC was known for.",
        };
        var boots = new Option<int?>("--boots")
        {
            Description = $"How many of the newest boots to show (default {DefaultBoots}).",
        };
        var dataDir = TraceFiles.DataDirOption();
        var config = TraceFiles.ConfigOption();
        var json = TraceFiles.JsonOption();
        var command = new Command("trace", "Show a client's last boots as a timeline: DHCP, TFTP and HTTP steps, what was asked and served, bytes and speed.")
        {
            client, boots, dataDir, config, json,
        };
        command.SetAction(parse =>
        {
            var text = parse.GetValue(client) ?? "";
            var count = parse.GetValue(boots) ?? DefaultBoots;
            var error = parse.InvocationConfiguration.Error;
            if (count is < 1 or > MaxBoots)
            {
                error.WriteLine($"pxekit: --boots {count}: use 1 to {MaxBoots}");
                return TraceFiles.UsageError;
            }
            string? mac = null;
            IPAddress? address = null;
            if (!MacAddress.TryNormalize(text, out var normal))
            {
                if (!IPAddress.TryParse(text, out address))
                {
                    error.WriteLine($"pxekit: '{text}' is neither a MAC address (such as 52:54:00:12:34:56) nor an IP address");
                    return TraceFiles.UsageError;
                }
            }
            else
            {
                mac = normal;
            }
            return TraceFiles.Run(parse, dataDir, config,
                (reader, directory) => Show(parse, reader, directory, mac, address, count, parse.GetValue(json)),
                directory => NothingBootedYet(parse, directory, parse.GetValue(json)));
        });
        return command;
    }

    /// <summary>Nothing has booted yet: `[]` for scripts (exit 0), one sentence for people (exit 1: the client asked
    /// for is not there).</summary>
    private static int NothingBootedYet(ParseResult parse, string directory, bool asJson)
    {
        if (asJson)
        {
            parse.InvocationConfiguration.Output.Write(TraceFiles.EmptyJsonList);
            return 0;
        }
        parse.InvocationConfiguration.Error.WriteLine("pxekit: " + TraceFiles.NothingBootedYet(directory));
        return TraceFiles.NotFound;
    }

    private static int Show(ParseResult parse, SqliteBootTraceReader reader, string directory, string? mac, IPAddress? address, int count, bool asJson)
    {
        var output = parse.InvocationConfiguration.Output;
        var traced = mac is null ? null : reader.FindClient(mac);
        var boots = mac is null ? reader.BootsWithoutMac(address!, count) : reader.Boots(mac, count);
        if (traced is null && boots.Count == 0 && reader.Clients().Count == 0)
            return NothingBootedYet(parse, directory, asJson);
        if (traced is null && boots.Count == 0)
        {
            parse.InvocationConfiguration.Error.WriteLine(mac is null
                ? $"pxekit: no events without a MAC from {address} in the boot traces of {directory}"
                : $"pxekit: {mac} is not in the boot traces of {directory} (`pxekit clients` lists the clients it knows)");
            return TraceFiles.NotFound;
        }

        if (asJson)
        {
            output.Write(TraceFiles.Json(json =>
            {
                json.WriteStartObject();
                json.WriteString("mac", mac);
                if (mac is null)
                    json.WriteString("address", address!.ToString());
                if (traced is not null)
                {
                    json.WritePropertyName("client");
                    TraceFiles.WriteClient(json, traced);
                }
                json.WriteStartArray("boots");
                foreach (var boot in boots)
                    WriteBoot(json, boot);
                json.WriteEndArray();
                json.WriteEndObject();
            }));
            return 0;
        }

        var heading = traced is null
            ? $"{address} (events with no known MAC)"
            : string.Join("  ", new[]
            {
                traced.Client.Mac, TraceFiles.Architecture(traced.Client.Architecture), traced.Client.Address?.ToString(),
                traced.Client.Uuid is { } uuid ? "uuid " + uuid : null, traced.Client.UserClass is { } user ? "user class " + user : null,
            }.Where(part => part is not null and not "-"));
        var total = traced?.Boots ?? boots.Count;
        output.WriteLine($"{heading}: {Plural(total, "boot")} in the trace{(boots.Count < total ? $", the last {boots.Count} shown" : "")}");
        foreach (var boot in boots)
        {
            output.WriteLine();
            output.WriteLine($"Boot {boot.Number.ToString(CultureInfo.InvariantCulture)}, {TraceFiles.Time(boot.Start)}, " +
                $"{(boot.End - boot.Start).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s, {Plural(boot.Events.Count, "event")}");
            var rows = new List<string[]>();
            foreach (var e in boot.Events)
            {
                rows.Add(
                [
                    "+" + (e.Time - boot.Start).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s",
                    Label(e.Kind), e.Requested ?? "-", e.Served is null ? "-" : "-> " + e.Served, Amount(e), e.Detail ?? "",
                ]);
            }
            output.Write(TraceFiles.Table(rows, "  "));
        }
        return 0;
    }

    private static void WriteBoot(Utf8JsonWriter json, TracedBoot boot)
    {
        json.WriteStartObject();
        json.WriteNumber("number", boot.Number);
        json.WriteString("start", boot.Start);
        json.WriteString("end", boot.End);
        json.WriteStartArray("events");
        foreach (var e in boot.Events)
        {
            json.WriteStartObject();
            json.WriteString("time", e.Time);
            json.WriteNumber("offsetSeconds", Math.Round((e.Time - boot.Start).TotalSeconds, 3));
            json.WriteString("kind", e.Kind.ToString());
            json.WriteString("mac", e.Mac);
            json.WriteString("address", e.Address?.ToString());
            json.WriteString("requested", e.Requested);
            json.WriteString("served", e.Served);
            json.WriteNumber("bytes", e.Bytes);
            json.WriteNumber("durationSeconds", Math.Round(e.Duration.TotalSeconds, 6));
            json.WriteString("detail", e.Detail);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    internal static string Label(BootEventKind kind) => kind switch
    {
        BootEventKind.DhcpDiscover => "DHCP DISCOVER",
        BootEventKind.DhcpOffer => "DHCP OFFER",
        BootEventKind.DhcpRequest => "DHCP REQUEST",
        BootEventKind.DhcpAck => "DHCP ACK",
        BootEventKind.DhcpNak => "DHCP NAK",
        BootEventKind.DhcpDecline => "DHCP DECLINE",
        BootEventKind.DhcpRelease => "DHCP RELEASE",
        BootEventKind.ProxyOffer => "proxyDHCP",
        BootEventKind.TftpServed => "TFTP",
        BootEventKind.TftpNotFound => "TFTP not found",
        BootEventKind.TftpRefused => "TFTP refused",
        BootEventKind.TftpFailed => "TFTP failed",
        BootEventKind.HttpServed => "HTTP",
        BootEventKind.HttpNotFound => "HTTP not found",
        BootEventKind.HttpRefused => "HTTP refused",
        BootEventKind.ScriptRendered => "script",
        BootEventKind.ServerScriptRun => "server script",
        BootEventKind.ServerScriptFailed => "server script failed",
        BootEventKind.IscsiLogin => "iSCSI login",
        _ => kind.ToString(),
    };

    /// <summary>"1.0 MiB at 4.2 MB/s"; empty for an event that moved no bytes.</summary>
    internal static string Amount(BootEvent e)
    {
        if (e.Bytes <= 0)
            return "";
        var size = e.Bytes switch
        {
            < 1024 => e.Bytes.ToString(CultureInfo.InvariantCulture) + " B",
            < 1024 * 1024 => (e.Bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
            < 1024L * 1024 * 1024 => (e.Bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
            _ => (e.Bytes / 1073741824.0).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        };
        return e.Duration > TimeSpan.Zero
            ? size + " at " + (e.Bytes / e.Duration.TotalSeconds / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB/s"
            : size;
    }

    private static string Plural(int n, string noun) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");
}
