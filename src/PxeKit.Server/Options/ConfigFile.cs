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
public static partial class ConfigFile
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
            ["boot"] = n => options.Boot = ParseBoot(reader, n),
            ["dhcp"] = n => ParseDhcp(reader, n, options.Dhcp),
            ["scripts"] = n => options.Scripts = ParseScripts(reader, n),
            ["traces"] = n => ParseTraces(reader, n, options.Traces),
            ["ipxe"] = n => reader.Mapping(n, "ipxe", new()
            {
                ["install-binaries"] = v => options.Ipxe.InstallBinaries = reader.Bool(v, "ipxe.install-binaries"),
                ["source-dir"] = v => options.Ipxe.SourceDirectory = reader.String(v, "ipxe.source-dir"),
                ["write-default-script"] = v => options.Ipxe.WriteDefaultScript = reader.Bool(v, "ipxe.write-default-script"),
            }),
        });
        return options;
    }

    private static void ParseDhcp(Reader reader, YamlNode node, DhcpOptions dhcp)
    {
        var server = dhcp.Server;
        reader.Mapping(node, "dhcp", new()
        {
            ["mode"] = v => dhcp.Mode = ParseMode(reader.String(v, "dhcp.mode")) ?? throw reader.Error(v, $"'dhcp.mode' must be off, proxy or full, not '{reader.String(v, "dhcp.mode")}'"),
            ["interface"] = v => dhcp.Interface = reader.String(v, "dhcp.interface"),
            ["server-address"] = v => server.ServerAddress = reader.Address(v, "dhcp.server-address"),
            ["port"] = v => server.Port = reader.Int(v, "dhcp.port", 1, 65535),
            ["proxy-port"] = v => server.ProxyPort = reader.Int(v, "dhcp.proxy-port", 0, 65535),
            ["authoritative"] = v => server.Authoritative = reader.Bool(v, "dhcp.authoritative"),
            ["detect-other-servers"] = v => dhcp.DetectOtherServers = reader.Bool(v, "dhcp.detect-other-servers"),
            ["ping-check"] = v => server.PingCheck = reader.Bool(v, "dhcp.ping-check"),
            ["decline-probation"] = v => server.DeclineProbation = reader.Duration(v, "dhcp.decline-probation", TimeSpan.Zero, TimeSpan.FromDays(7)),
            ["lease-time"] = v => dhcp.DefaultLeaseTime = reader.Duration(v, "dhcp.lease-time", TimeSpan.FromMinutes(1), TimeSpan.FromDays(365)),
            ["range"] = v => dhcp.Range = reader.Range(v, "dhcp.range"),
            ["boot-files"] = v => reader.Mapping(v, "dhcp.boot-files", BootFileKeys(reader, dhcp.Boot)),
            ["ipxe-script"] = v => dhcp.Boot.IpxeScript = reader.String(v, "dhcp.ipxe-script"),
            ["next-server"] = v => dhcp.Boot.NextServer = reader.Address(v, "dhcp.next-server"),
            ["windows-bcd-path"] = v => dhcp.Boot.WindowsBcdPath = reader.String(v, "dhcp.windows-bcd-path"),
            ["subnets"] = v => server.Subnets = reader.Subnets(v, "dhcp.subnets"),
            ["rate-limit-per-client"] = v => server.PerClientLimit = RateLimit(reader.Int(v, "dhcp.rate-limit-per-client", 0, 1000)),
            ["rate-limit-per-segment"] = v => server.PerSegmentLimit = RateLimit(reader.Int(v, "dhcp.rate-limit-per-segment", 0, 1_000_000)),
        });
    }

    /// <summary>Messages a second with a burst of five seconds' worth; 0 turns the limit off.</summary>
    private static PxeKit.Protocols.Dhcp.DhcpRateLimit RateLimit(int perSecond) =>
        perSecond == 0 ? PxeKit.Protocols.Dhcp.DhcpRateLimit.Off : new(perSecond, perSecond * 5);

    /// <summary>Names (bios, efi-x64, ...) and plain architecture numbers, each mapping to a file or URL.</summary>
    private static Dictionary<string, Action<YamlNode>> BootFileKeys(Reader reader, DhcpBootOptions boot)
    {
        var keys = new Dictionary<string, Action<YamlNode>>(StringComparer.Ordinal);
        foreach (var (name, codes) in DhcpBootOptions.ArchitectureNames)
        {
            keys[name] = v =>
            {
                var file = reader.String(v, "dhcp.boot-files." + name);
                foreach (var code in codes)
                    boot.Files[code] = file;
            };
        }
        for (var code = 0; code <= 64; code++)
        {
            var arch = (ushort)code;
            keys[code.ToString(CultureInfo.InvariantCulture)] = v => boot.Files[arch] = reader.String(v, $"dhcp.boot-files.{arch}");
        }
        return keys;
    }

    public static PxeKit.Protocols.Dhcp.DhcpMode? ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "off" or "false" or "no" => PxeKit.Protocols.Dhcp.DhcpMode.Off,
        "proxy" => PxeKit.Protocols.Dhcp.DhcpMode.Proxy,
        "full" => PxeKit.Protocols.Dhcp.DhcpMode.Full,
        _ => null,
    };

    /// <summary>"192.0.2.100-192.0.2.199".</summary>
    public static (IPAddress Start, IPAddress End)? ParseRange(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        // Dotted quads only: IPAddress.TryParse would read "1" as 0.0.0.1.
        if (dash < 0 || text.Count(c => c == '.') != 6 || !IPAddress.TryParse(text.AsSpan(0, dash).Trim(), out var start) || !IPAddress.TryParse(text.AsSpan(dash + 1).Trim(), out var end)
            || start.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || end.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || PxeKit.Protocols.Dhcp.DhcpSubnet.ToUInt32(start) > PxeKit.Protocols.Dhcp.DhcpSubnet.ToUInt32(end))
            return null;
        return (start, end);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.TrimEnd('.');
    }

    /// <summary>Typed reads of YAML nodes; each failure names the file, line and dotted key.</summary>
    private sealed partial class Reader(string fileName)
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

        /// <summary>"250ms", "1.5s", "2m", "12h", "7d", or a plain number of seconds.</summary>
        public TimeSpan Duration(YamlNode node, string key, TimeSpan min, TimeSpan max)
        {
            var text = String(node, key).Trim();
            var (number, unit) = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (text[..^2], 0.001)
                : text.EndsWith('s') ? (text[..^1], 1.0)
                : text.EndsWith('m') ? (text[..^1], 60.0)
                : text.EndsWith('h') ? (text[..^1], 3600.0)
                : text.EndsWith('d') ? (text[..^1], 86400.0)
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

        public IPAddress Address(YamlNode node, string key)
        {
            var text = String(node, key);
            if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw Error(node, $"'{key}' must be an IPv4 address, not '{text}'");
            return address;
        }

        public List<IPAddress> Ipv4List(YamlNode node, string key)
        {
            var items = node is YamlSequenceNode sequence ? sequence.Children.ToList() : [node];
            return [.. items.Select(item => Address(item, key))];
        }

        public (IPAddress Start, IPAddress End) Range(YamlNode node, string key) =>
            ParseRange(String(node, key)) ?? throw Error(node, $"'{key}' must be START-END with IPv4 addresses in order, such as 192.0.2.100-192.0.2.199");

        public List<PxeKit.Protocols.Dhcp.DhcpSubnet> Subnets(YamlNode node, string key)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list of subnets (- network: 192.0.2.0/24 ...)");
            var subnets = new List<PxeKit.Protocols.Dhcp.DhcpSubnet>();
            foreach (var item in sequence.Children)
            {
                IPAddress? network = null;
                var prefix = 0;
                (IPAddress Start, IPAddress End)? range = null;
                var subnet = new PxeKit.Protocols.Dhcp.DhcpSubnet { Network = IPAddress.Any, PrefixLength = 0 };
                var k = key + "[]";
                Mapping(item, k, new()
                {
                    ["network"] = v =>
                    {
                        var text = String(v, k + ".network");
                        var slash = text.IndexOf('/', StringComparison.Ordinal);
                        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out network)
                            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix is < 8 or > 30)
                            throw Error(v, $"'{k}.network' must be ADDRESS/PREFIX with a prefix of 8 to 30, such as 192.0.2.0/24, not '{text}'");
                    },
                    ["range"] = v => range = Range(v, k + ".range"),
                    ["lease-time"] = v => subnet.LeaseTime = Duration(v, k + ".lease-time", TimeSpan.FromMinutes(1), TimeSpan.FromDays(365)),
                    ["routers"] = v => subnet.Routers = Ipv4List(v, k + ".routers"),
                    ["dns"] = v => subnet.DnsServers = Ipv4List(v, k + ".dns"),
                    ["domain"] = v => subnet.DomainName = String(v, k + ".domain"),
                    ["ntp"] = v => subnet.NtpServers = Ipv4List(v, k + ".ntp"),
                    ["reservations"] = v => subnet.Reservations = Reservations(v, k + ".reservations"),
                    ["options"] = v => subnet.CustomOptions = CustomOptions(v, k + ".options"),
                });
                if (network is null)
                    throw Error(item, $"each '{key}' entry needs 'network' (such as 192.0.2.0/24)");
                subnet.Network = network;
                subnet.PrefixLength = prefix;
                if (range is { } r)
                {
                    subnet.RangeStart = r.Start;
                    subnet.RangeEnd = r.End;
                }
                if (subnet.Validate() is { } problem)
                    throw Error(item, $"'{key}' {subnet}: {problem}");
                subnets.Add(subnet);
            }
            return subnets;
        }

        private Dictionary<string, IPAddress> Reservations(YamlNode node, string key)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list of {{mac, address}}");
            var reservations = new Dictionary<string, IPAddress>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in sequence.Children)
            {
                string? mac = null;
                IPAddress? address = null;
                Mapping(item, key + "[]", new()
                {
                    ["mac"] = v =>
                    {
                        var text = String(v, key + "[].mac").Replace('-', ':').ToLowerInvariant();
                        if (!Regex.IsMatch(text, "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", RegexOptions.CultureInvariant))
                            throw Error(v, $"'{key}[].mac' must look like 52:54:00:12:34:56, not '{text}'");
                        mac = text;
                    },
                    ["address"] = v => address = Address(v, key + "[].address"),
                });
                if (mac is null || address is null)
                    throw Error(item, $"each '{key}' entry needs 'mac' and 'address'");
                reservations[mac] = address;
            }
            return reservations;
        }

        /// <summary>{code, and one of ip, text, hex, uint8, uint16, uint32}: any option the subnet should send.</summary>
        private List<PxeKit.Protocols.Dhcp.DhcpOption> CustomOptions(YamlNode node, string key)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list of {{code, ip|text|hex|uint8|uint16|uint32}}");
            var result = new List<PxeKit.Protocols.Dhcp.DhcpOption>();
            foreach (var item in sequence.Children)
            {
                int? code = null;
                byte[]? value = null;
                var k = key + "[]";
                Mapping(item, k, new()
                {
                    ["code"] = v => code = Int(v, k + ".code", 1, 254),
                    ["ip"] = v => value = [.. Ipv4List(v, k + ".ip").SelectMany(a => a.GetAddressBytes())],
                    ["text"] = v => value = System.Text.Encoding.ASCII.GetBytes(String(v, k + ".text")),
                    ["hex"] = v =>
                    {
                        var text = String(v, k + ".hex").Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
                        try
                        {
                            value = Convert.FromHexString(text);
                        }
                        catch (FormatException)
                        {
                            throw Error(v, $"'{k}.hex' must be hexadecimal bytes, not '{text}'");
                        }
                    },
                    ["uint8"] = v => value = [(byte)Int(v, k + ".uint8", 0, 255)],
                    ["uint16"] = v => value = [.. BitConverter.GetBytes((ushort)Int(v, k + ".uint16", 0, 65535)).Reverse()],
                    ["uint32"] = v =>
                    {
                        var text = String(v, k + ".uint32");
                        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                            throw Error(v, $"'{k}.uint32' must be 0 to 4294967295, not '{text}'");
                        value = [(byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n];
                    },
                });
                if (code is null || value is null)
                    throw Error(item, $"each '{key}' entry needs 'code' and one value (ip, text, hex, uint8, uint16 or uint32)");
                if (code is 53 or 54 or 51 or 82)
                    throw Error(item, $"'{key}': option {code} is set by the server itself");
                result.Add(new PxeKit.Protocols.Dhcp.DhcpOption((byte)code.Value, value));
            }
            return result;
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
