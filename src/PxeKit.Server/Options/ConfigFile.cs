using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PxeKit.Server.Options;

/// <summary>
/// Reads <c>pxekit.yaml</c>. Every key is bound explicitly, so a misspelt key, a wrong type or a value out of range
/// stops the start with one sentence that names the key and its line, instead of being silently ignored.
/// </summary>
public static class ConfigFile
{
    public const string DefaultFileName = "pxekit.yaml";

    public static PxeKitOptions Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"cannot read configuration file {path}: {e.Message}");
        }
        var options = Parse(text, Path.GetFileName(path));
        options.ConfigFile = Path.GetFullPath(path);
        return options;
    }

    public static PxeKitOptions Parse(string yaml, string fileName = DefaultFileName)
    {
        var options = new PxeKitOptions();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigurationException($"{fileName} line {e.Start.Line}: {FirstSentence(e.Message)}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return options;

        var reader = new Reader(fileName);
        reader.Mapping(stream.Documents[0].RootNode, "", new()
        {
            ["root"] = n => options.Root = reader.String(n, "root"),
            ["data-dir"] = n => options.DataDirectory = reader.String(n, "data-dir"),
            ["listen"] = n => options.Listen = reader.Addresses(n, "listen"),
            ["log-level"] = n => options.LogLevel = reader.LogLevel(n, "log-level"),
            ["tftp"] = n => reader.Mapping(n, "tftp", new()
            {
                ["enabled"] = v => options.Tftp.Enabled = reader.Bool(v, "tftp.enabled"),
                ["port"] = v => options.Tftp.Port = reader.Int(v, "tftp.port", 1, 65535),
                ["case-insensitive"] = v => options.Tftp.CaseInsensitive = reader.Bool(v, "tftp.case-insensitive"),
                ["max-transfers"] = v => options.Tftp.Server.MaxTransfers = reader.Int(v, "tftp.max-transfers", 1, 65536),
                ["max-block-size"] = v => options.Tftp.Server.MaxBlockSize = reader.Int(v, "tftp.max-block-size", 512, 65464),
                ["max-window-size"] = v => options.Tftp.Server.MaxWindowSize = reader.Int(v, "tftp.max-window-size", 1, 65535),
                ["retransmit-timeout"] = v => options.Tftp.Server.RetransmitTimeout = reader.Duration(v, "tftp.retransmit-timeout", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(255)),
                ["max-retries"] = v => options.Tftp.Server.MaxRetries = reader.Int(v, "tftp.max-retries", 0, 50),
                ["remap"] = v => options.Tftp.Remap = reader.Remaps(v, "tftp.remap"),
            }),
            ["http"] = n => reader.Mapping(n, "http", new()
            {
                ["enabled"] = v => options.Http.Enabled = reader.Bool(v, "http.enabled"),
                ["port"] = v => options.Http.Port = reader.Int(v, "http.port", 1, 65535),
                ["max-connections"] = v => options.Http.MaxConnections = reader.Int(v, "http.max-connections", 1, 1_000_000),
            }),
            ["bcd"] = n => options.Bcd = reader.GeneratedBcds(n, "bcd"),
            ["ipxe"] = n => reader.Mapping(n, "ipxe", new()
            {
                ["install-binaries"] = v => options.Ipxe.InstallBinaries = reader.Bool(v, "ipxe.install-binaries"),
                ["source-dir"] = v => options.Ipxe.SourceDirectory = reader.String(v, "ipxe.source-dir"),
                ["write-default-script"] = v => options.Ipxe.WriteDefaultScript = reader.Bool(v, "ipxe.write-default-script"),
            }),
        });
        return options;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.TrimEnd('.');
    }

    /// <summary>Typed reads of YAML nodes; each failure names the file, line and dotted key.</summary>
    private sealed class Reader(string fileName)
    {
        public ConfigurationException Error(YamlNode node, string message) =>
            new($"{fileName} line {node.Start.Line}: {message}");

        public void Mapping(YamlNode node, string path, Dictionary<string, Action<YamlNode>> keys)
        {
            if (node is not YamlMappingNode mapping)
                throw Error(node, path.Length == 0 ? "the file must be a mapping of keys (key: value)" : $"'{path}' must be a mapping of keys");
            foreach (var (keyNode, value) in mapping.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? "";
                var dotted = path.Length == 0 ? key : $"{path}.{key}";
                if (!keys.TryGetValue(key, out var bind))
                    throw Error(keyNode, $"unknown key '{dotted}' (known keys{(path.Length == 0 ? "" : $" under {path}")}: {string.Join(", ", keys.Keys)})");
                bind(value);
            }
        }

        public string String(YamlNode node, string key)
        {
            if (node is not YamlScalarNode { Value: { Length: > 0 } value })
                throw Error(node, $"'{key}' must be a non-empty text value");
            return value;
        }

        public bool Bool(YamlNode node, string key) => String(node, key).ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            var other => throw Error(node, $"'{key}' must be true or false, not '{other}'"),
        };

        public int Int(YamlNode node, string key, int min, int max)
        {
            var text = String(node, key);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw Error(node, $"'{key}' must be a whole number, not '{text}'");
            if (value < min || value > max)
                throw Error(node, $"'{key}' must be between {min} and {max}, not {value}");
            return value;
        }

        /// <summary>"250ms", "1.5s", "2m", or a plain number of seconds.</summary>
        public TimeSpan Duration(YamlNode node, string key, TimeSpan min, TimeSpan max)
        {
            var text = String(node, key).Trim();
            var (number, unit) = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (text[..^2], 0.001)
                : text.EndsWith('s') ? (text[..^1], 1.0)
                : text.EndsWith('m') ? (text[..^1], 60.0)
                : (text, 1.0);
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
                throw Error(node, $"'{key}' must be a duration such as 500ms or 2s, not '{text}'");
            var duration = TimeSpan.FromSeconds(value * unit);
            if (duration < min || duration > max)
                throw Error(node, $"'{key}' must be between {min.TotalMilliseconds} ms and {max.TotalSeconds} s, not {text}");
            return duration;
        }

        public List<IPAddress> Addresses(YamlNode node, string key)
        {
            var items = node is YamlSequenceNode sequence ? sequence.Children.ToList() : [node];
            var addresses = new List<IPAddress>();
            foreach (var item in items)
            {
                var text = String(item, key);
                if (!IPAddress.TryParse(text, out var address))
                    throw Error(item, $"'{key}' must list IP addresses, and '{text}' is not one");
                addresses.Add(address);
            }
            if (addresses.Count == 0)
                throw Error(node, $"'{key}' must name at least one address");
            return addresses;
        }

        public LogLevel LogLevel(YamlNode node, string key) => String(node, key).ToLowerInvariant() switch
        {
            "trace" => Microsoft.Extensions.Logging.LogLevel.Trace,
            "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
            "information" or "info" => Microsoft.Extensions.Logging.LogLevel.Information,
            "warning" or "warn" => Microsoft.Extensions.Logging.LogLevel.Warning,
            "error" => Microsoft.Extensions.Logging.LogLevel.Error,
            var other => throw Error(node, $"'{key}' must be one of trace, debug, information, warning, error; not '{other}'"),
        };

        public List<GeneratedBcdOptions> GeneratedBcds(YamlNode node, string key)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list of stores, each with 'path' and 'recipe'");
            var stores = new List<GeneratedBcdOptions>();
            foreach (var item in sequence.Children)
            {
                string? path = null, recipe = null, wim = null, sdi = null, device = null, vhd = null;
                var uefi = false;
                Mapping(item, key + "[]", new()
                {
                    ["path"] = v => path = String(v, key + "[].path"),
                    ["recipe"] = v => recipe = OneOf(v, key + "[].recipe", "winpe", "windows", "vhd"),
                    ["uefi"] = v => uefi = Bool(v, key + "[].uefi"),
                    ["wim"] = v => wim = String(v, key + "[].wim"),
                    ["sdi"] = v => sdi = String(v, key + "[].sdi"),
                    ["device"] = v => device = OneOf(v, key + "[].device", "boot", "locate", "locate-path"),
                    ["vhd"] = v => vhd = String(v, key + "[].vhd"),
                });
                if (path is null || recipe is null)
                    throw Error(item, $"each '{key}' store needs 'path' (where clients fetch it) and 'recipe' (winpe, windows or vhd)");
                if (recipe == "vhd" && vhd is null)
                    throw Error(item, $"the '{key}' store at '{path}' uses the vhd recipe and needs 'vhd' (e.g. \\images\\win10.vhd)");
                if (path.Split('/', '\\').Any(part => part == ".."))
                    throw Error(item, $"'{key}[].path' '{path}' must stay inside the boot root");
                stores.Add(new GeneratedBcdOptions
                {
                    Path = path, Recipe = recipe, Uefi = uefi, Wim = wim, Sdi = sdi, Device = device, Vhd = vhd,
                    Line = (int)item.Start.Line,
                });
            }
            return stores;
        }

        public string OneOf(YamlNode node, string key, params string[] allowed)
        {
            var value = String(node, key);
            return allowed.Contains(value) ? value : throw Error(node, $"'{key}' must be one of {string.Join(", ", allowed)}; not '{value}'");
        }

        public List<RemapOptions> Remaps(YamlNode node, string key)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list of {{match, replace}} rules");
            var rules = new List<RemapOptions>();
            foreach (var item in sequence.Children)
            {
                string? match = null, replace = null;
                Mapping(item, key + "[]", new()
                {
                    ["match"] = v => match = String(v, key + "[].match"),
                    ["replace"] = v => replace = v is YamlScalarNode s ? s.Value ?? "" : throw Error(v, $"'{key}[].replace' must be text"),
                });
                if (match is null || replace is null)
                    throw Error(item, $"each '{key}' rule needs both 'match' (a regular expression) and 'replace'");
                try
                {
                    _ = new Regex(match, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    throw Error(item, $"'{key}' rule '{match}' is not a valid regular expression: {e.Message}");
                }
                rules.Add(new RemapOptions { Match = match, Replace = replace, Line = (int)item.Start.Line });
            }
            return rules;
        }
    }
}
