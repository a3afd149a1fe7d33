using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;

namespace PxeKit.Cli.Commands;

/// <summary>What <c>pxekit clients</c> and <c>pxekit trace</c> share: finding the data directory as <c>serve</c>
/// does, opening the traces read-only, and saying in one sentence why they cannot be read.</summary>
internal static class TraceFiles
{
    public const int UsageError = 2;
    public const int NotFound = 1;

    public static Option<string?> DataDirOption() => new("--data-dir")
    {
        Description = "Data directory of the server (default: data-dir of ./pxekit.yaml when it exists, else ./data).",
    };

    public static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = $"Configuration file whose data-dir to read (default: ./{ConfigFile.DefaultFileName} when it exists).",
    };

    public static Option<bool> JsonOption() => new("--json")
    {
        Description = "Print JSON instead of a table.",
    };

    /// <summary>--data-dir, else the configuration's data-dir, else ./data: the directory <c>pxekit serve</c> would use
    /// from the same working directory.</summary>
    public static string DataDirectory(ParseResult parse, Option<string?> dataDir, Option<string?> config)
    {
        if (parse.GetValue(dataDir) is { } explicitDirectory)
            return explicitDirectory;
        if (parse.GetValue(config) is { } path)
        {
            if (!File.Exists(path))
                throw new ConfigurationException($"configuration file {path} does not exist");
            return ConfigFile.Load(path).DataDirectory;
        }
        return File.Exists(ConfigFile.DefaultFileName) ? ConfigFile.Load(ConfigFile.DefaultFileName).DataDirectory : new PxeKitOptions().DataDirectory;
    }

    /// <summary>
    /// Runs <paramref name="query"/> on the traces of the data directory; a problem is one sentence on standard error
    /// and exit code 1 (2 for a configuration mistake). A data directory that exists but has no traces yet (the
    /// server has not recorded a boot) goes to <paramref name="nothingBootedYet"/>, so that scripts can tell "no
    /// clients yet" from "wrong directory".
    /// </summary>
    public static int Run(ParseResult parse, Option<string?> dataDir, Option<string?> config, Func<SqliteBootTraceReader, string, int> query,
        Func<string, int> nothingBootedYet)
    {
        var error = parse.InvocationConfiguration.Error;
        string directory;
        try
        {
            directory = DataDirectory(parse, dataDir, config);
        }
        catch (ConfigurationException e)
        {
            error.WriteLine("pxekit: " + e.Message);
            return UsageError;
        }
        if (!Directory.Exists(directory))
        {
            error.WriteLine($"pxekit: no boot traces in {directory}: the directory does not exist (is it the data directory `pxekit serve` uses? see --data-dir)");
            return NotFound;
        }
        var reader = new SqliteBootTraceReader(directory);
        if (!reader.Exists)
            return nothingBootedYet(directory);
        try
        {
            return query(reader, directory);
        }
        catch (SqliteException e)
        {
            var hint = e.SqliteErrorCode == 14 ? " (SQLITE_CANTOPEN: the server runs as root and keeps it 0600; try sudo)" : "";
            error.WriteLine($"pxekit: cannot read {reader.Path}: {e.Message.TrimEnd('.')}{hint}");
            return NotFound;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"pxekit: cannot read {reader.Path}: {e.Message}");
            return NotFound;
        }
    }

    /// <summary>What <c>--json</c> prints when no client has booted yet: an empty list.</summary>
    public const string EmptyJsonList = "[]\n";

    public static string NothingBootedYet(string directory) => $"No client has booted from this server yet (no boot traces in {directory}).";

    public static string Time(DateTimeOffset time) =>
        time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Architecture(ushort? code) => code is { } c ? BootArchitecture.Name(c) : "-";

    /// <summary>Columns padded to their widest cell, two spaces apart; the last column is not padded.</summary>
    public static string Table(IReadOnlyList<string[]> rows, string indent = "")
    {
        var widths = new int[rows.Max(r => r.Length)];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            var line = new StringBuilder(indent);
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }
            text.Append(line.ToString().TrimEnd()).Append('\n');
        }
        return text.ToString();
    }

    public static void WriteClient(Utf8JsonWriter json, TracedClient traced)
    {
        var client = traced.Client;
        json.WriteStartObject();
        json.WriteString("mac", client.Mac);
        if (client.Architecture is { } arch)
        {
            json.WriteNumber("architecture", arch);
            json.WriteString("architectureName", BootArchitecture.Name(arch));
        }
        else
        {
            json.WriteNull("architecture");
            json.WriteNull("architectureName");
        }
        json.WriteString("address", client.Address?.ToString());
        json.WriteString("uuid", client.Uuid);
        json.WriteString("vendorClass", client.VendorClass);
        json.WriteString("userClass", client.UserClass);
        json.WriteString("hostname", client.Hostname);
        json.WriteString("firstSeen", client.FirstSeen);
        json.WriteString("lastSeen", client.LastSeen);
        json.WriteNumber("boots", traced.Boots);
        json.WriteEndObject();
    }

    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            write(json);
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
