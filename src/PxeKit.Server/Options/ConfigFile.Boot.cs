using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PxeKit.Server.Boot;
using YamlDotNet.RepresentationModel;

namespace PxeKit.Server.Options;

/// <summary>The <c>boot:</c> section: entries, menus, groups, clients, the default and template files.</summary>
public static partial class ConfigFile
{
    private static readonly string[] EntryKinds = ["linux", "wimboot", "sanboot", "chain", "pxelinux", "memdisk", "local", "shell", "script"];

    private static BootPolicyDefinition ParseBoot(Reader reader, YamlNode node)
    {
        var entries = new Dictionary<string, BootEntry>(StringComparer.Ordinal);
        var menus = new Dictionary<string, BootMenu>(StringComparer.Ordinal);
        var groups = new List<ClientGroup>();
        var clients = new List<KnownClient>();
        var templates = new List<string>();
        string? fallback = null;
        YamlNode? fallbackNode = null;
        // References are checked once everything is read, so the sections may come in any order.
        var references = new List<(YamlNode Node, string Name, string Where)>();

        reader.Mapping(node, "boot", new()
        {
            ["default"] = v => { fallback = reader.String(v, "boot.default"); fallbackNode = v; },
            ["templates"] = v => templates = reader.StringList(v, "boot.templates"),
            ["entries"] = v => reader.NamedMapping(v, "boot.entries", (name, item) =>
            {
                if (entries.ContainsKey(name))
                    throw reader.Error(item, $"entry '{name}' is defined twice");
                entries[name] = ParseEntry(reader, item, name, references);
            }),
            ["menus"] = v => reader.NamedMapping(v, "boot.menus", (name, item) => menus[name] = ParseMenu(reader, item, name, references)),
            ["groups"] = v => reader.Sequence(v, "boot.groups", item => groups.Add(ParseGroup(reader, item, references))),
            ["clients"] = v => reader.Sequence(v, "boot.clients", item => clients.Add(ParseClient(reader, item, references))),
        });

        foreach (var name in menus.Keys)
        {
            if (entries.ContainsKey(name))
                throw new ConfigurationException($"{reader.FileName}: '{name}' is both an entry and a menu under boot; give them different names");
        }
        if (fallback is not null)
            references.Add((fallbackNode!, fallback, "boot.default"));
        foreach (var (refNode, name, where) in references)
        {
            if (!entries.ContainsKey(name) && !menus.ContainsKey(name))
            {
                var known = string.Join(", ", entries.Keys.Concat(menus.Keys));
                throw reader.Error(refNode, $"'{where}' names '{name}', which is no entry or menu under boot (defined: {(known.Length == 0 ? "none" : known)})");
            }
        }
        foreach (var entry in entries.Values.OfType<PxelinuxEntry>())
        {
            if (!menus.ContainsKey(entry.Menu))
                throw new ConfigurationException($"{reader.FileName}: pxelinux entry '{entry.Name}' shows menu '{entry.Menu}', which is not under boot.menus");
        }
        foreach (var menu in menus.Values)
        {
            if (menu.Default is { } d && !menu.Targets.Contains(d))
                throw new ConfigurationException($"{reader.FileName}: menu '{menu.Name}' has default '{d}', which is not one of its items ({string.Join(", ", menu.Targets)})");
        }
        return new BootPolicyDefinition
        {
            Entries = entries, Menus = menus, Groups = groups, Clients = clients, Default = fallback, Templates = templates,
        };
    }

    private static BootEntry ParseEntry(Reader reader, YamlNode node, string name, List<(YamlNode, string, string)> references)
    {
        var key = $"boot.entries.{name}";
        if (node is not YamlMappingNode mapping)
            throw reader.Error(node, $"'{key}' must be a mapping with at least 'kind'");
        var kindNode = mapping.Children.FirstOrDefault(c => (c.Key as YamlScalarNode)?.Value == "kind").Value
            ?? throw reader.Error(node, $"'{key}' needs 'kind' ({string.Join(", ", EntryKinds)})");
        var kind = reader.OneOf(kindNode, key + ".kind", EntryKinds);

        string title = name;
        PlatformValue? kernel = null, wimboot = null, bootmgr = null, bcd = null, sdi = null, wim = null;
        var initrds = new List<PlatformValue>();
        string? args = null, url = null, target = null, sanhook = null, iqn = null, menu = null, image = null, script = null;
        string loader = "pxelinux.0", memdisk = "memdisk";
        bool keepSan = false, noDescribe = false, raw = false;
        string? wimbootArgs = null;

        var keys = new Dictionary<string, Action<YamlNode>>(StringComparer.Ordinal)
        {
            ["kind"] = _ => { },
            ["title"] = v => title = reader.String(v, key + ".title"),
        };
        switch (kind)
        {
            case "linux":
                keys["kernel"] = v => kernel = reader.PlatformValue(v, key + ".kernel");
                keys["initrd"] = v => initrds = reader.PlatformValues(v, key + ".initrd");
                keys["args"] = v => args = reader.Template(v, key + ".args");
                break;
            case "wimboot":
                keys["wimboot"] = v => wimboot = reader.PlatformValue(v, key + ".wimboot");
                keys["wimboot-args"] = v => wimbootArgs = reader.String(v, key + ".wimboot-args");
                keys["bootmgr"] = v => bootmgr = reader.PlatformValue(v, key + ".bootmgr");
                keys["bcd"] = v => bcd = reader.PlatformValue(v, key + ".bcd");
                keys["boot-sdi"] = v => sdi = reader.PlatformValue(v, key + ".boot-sdi");
                keys["boot-wim"] = v => wim = reader.PlatformValue(v, key + ".boot-wim");
                keys["sanhook"] = v => sanhook = reader.Template(v, key + ".sanhook");
                keys["initiator-iqn"] = v => iqn = reader.Template(v, key + ".initiator-iqn");
                keys["keep-san"] = v => keepSan = reader.Bool(v, key + ".keep-san");
                break;
            case "sanboot":
                keys["target"] = v => target = reader.Template(v, key + ".target");
                keys["initiator-iqn"] = v => iqn = reader.Template(v, key + ".initiator-iqn");
                keys["keep-san"] = v => keepSan = reader.Bool(v, key + ".keep-san");
                keys["no-describe"] = v => noDescribe = reader.Bool(v, key + ".no-describe");
                break;
            case "chain":
                keys["url"] = v => url = reader.Template(v, key + ".url");
                break;
            case "pxelinux":
                keys["menu"] = v => { menu = reader.String(v, key + ".menu"); };
                keys["loader"] = v => loader = reader.String(v, key + ".loader");
                break;
            case "memdisk":
                keys["image"] = v => image = reader.String(v, key + ".image");
                keys["memdisk"] = v => memdisk = reader.String(v, key + ".memdisk");
                keys["raw"] = v => raw = reader.Bool(v, key + ".raw");
                break;
            case "script":
                keys["script"] = v => script = reader.Template(v, key + ".script");
                break;
        }
        reader.Mapping(node, key, keys);

        string Need(string? value, string field, string example) =>
            value ?? throw reader.Error(node, $"the {kind} entry '{name}' needs '{field}' ({example})");

        return kind switch
        {
            "linux" => new LinuxEntry(name, title, kernel ?? throw reader.Error(node, $"the linux entry '{name}' needs 'kernel' (e.g. debian/linux)"), initrds, args),
            "wimboot" => new WimbootEntry(name, title, wimboot ?? Boot.PlatformValue.Of("wimboot"), bootmgr, bcd,
                sdi ?? Boot.PlatformValue.Of("boot/boot.sdi"),
                wim ?? throw reader.Error(node, $"the wimboot entry '{name}' needs 'boot-wim' (e.g. sources/boot.wim, or per architecture {{x86_64: sources/x64/boot.wim, i386: sources/x86/boot.wim}})"),
                sanhook, iqn, keepSan, wimbootArgs),
            "sanboot" => new SanbootEntry(name, title, Need(target, "target", "iscsi:192.0.2.1::::iqn.2026-11.lab:disk1, or an http:// URL or root path of a disk or ISO image"), keepSan, iqn, noDescribe),
            "chain" => new ChainEntry(name, title, Need(url, "url", "https://boot.netboot.xyz, or a script in the root")),
            "pxelinux" => new PxelinuxEntry(name, title, Need(menu, "menu", "a menu under boot.menus to show in pxelinux"), loader),
            "memdisk" => new MemdiskEntry(name, title, Need(image, "image", "images/freedos.img or images/winpe.iso"), memdisk, raw),
            "local" => new LocalEntry(name, title),
            "shell" => new ShellEntry(name, title),
            "script" => new ScriptEntry(name, title, Need(script, "script", "iPXE commands")),
            _ => throw new InvalidOperationException(kind),
        };
    }

    private static BootMenu ParseMenu(Reader reader, YamlNode node, string name, List<(YamlNode, string, string)> references)
    {
        var key = $"boot.menus.{name}";
        string title = name;
        string? defaultItem = null, password = null;
        TimeSpan? timeout = null;
        var items = new List<MenuItem>();
        reader.Mapping(node, key, new()
        {
            ["title"] = v => title = reader.String(v, key + ".title"),
            ["default"] = v => defaultItem = reader.String(v, key + ".default"),
            ["timeout"] = v => timeout = reader.Duration(v, key + ".timeout", TimeSpan.FromSeconds(1), TimeSpan.FromHours(24)),
            ["password"] = v => password = reader.String(v, key + ".password"),
            ["items"] = v => reader.Sequence(v, key + ".items", item =>
            {
                if (item is YamlScalarNode)
                {
                    var target = reader.String(item, key + ".items[]");
                    references.Add((item, target, key + ".items"));
                    items.Add(new MenuItem(target, null, null));
                    return;
                }
                string? itemTarget = null, separator = null, hotkey = null;
                reader.Mapping(item, key + ".items[]", new()
                {
                    ["boot"] = t => { itemTarget = reader.String(t, key + ".items[].boot"); references.Add((t, itemTarget, key + ".items")); },
                    ["separator"] = t => separator = t is YamlScalarNode s ? s.Value ?? "" : throw reader.Error(t, $"'{key}.items[].separator' must be text"),
                    ["key"] = t =>
                    {
                        hotkey = reader.String(t, key + ".items[].key");
                        if (hotkey.Length != 1 || !char.IsAsciiLetterOrDigit(hotkey[0]))
                            throw reader.Error(t, $"'{key}.items[].key' must be one letter or digit, not '{hotkey}'");
                    },
                });
                if ((itemTarget is null) == (separator is null))
                    throw reader.Error(item, $"each item of '{key}' is an entry or menu name, {{boot: NAME, key: K}}, or {{separator: TEXT}}");
                items.Add(new MenuItem(itemTarget, separator, hotkey));
            }),
        });
        if (!items.Any(i => i.Target is not null))
            throw reader.Error(node, $"menu '{name}' has no items to boot");
        return new BootMenu(name, title, items, defaultItem, timeout, password);
    }

    private static ClientGroup ParseGroup(Reader reader, YamlNode node, List<(YamlNode, string, string)> references)
    {
        string? name = null, boot = null, menuDefault = null;
        ClientMatch? match = null;
        reader.Mapping(node, "boot.groups[]", new()
        {
            ["name"] = v => name = reader.String(v, "boot.groups[].name"),
            ["match"] = v => match = ParseMatch(reader, v),
            ["boot"] = v => { boot = reader.String(v, "boot.groups[].boot"); references.Add((v, boot, "boot.groups[].boot")); },
            ["menu-default"] = v => { menuDefault = reader.String(v, "boot.groups[].menu-default"); references.Add((v, menuDefault, "boot.groups[].menu-default")); },
        });
        if (name is null || boot is null || match is null)
            throw reader.Error(node, "each boot group needs 'name', 'match' (mac, arch, vendor-class, user-class, uuid or ip) and 'boot' (an entry or menu)");
        return new ClientGroup(name, match, boot, menuDefault);
    }

    private static ClientMatch ParseMatch(Reader reader, YamlNode node)
    {
        const string key = "boot.groups[].match";
        List<string> macs = [], archs = [], vendors = [], users = [], uuids = [];
        var ranges = new List<(IPAddress, IPAddress)>();
        reader.Mapping(node, key, new()
        {
            ["mac"] = v => macs = [.. reader.StringList(v, key + ".mac").Select(m => m.Replace('-', ':').ToLowerInvariant())],
            ["arch"] = v =>
            {
                archs = [.. reader.StringList(v, key + ".arch").Select(a => a.ToLowerInvariant())];
                if (archs.FirstOrDefault(a => !BootPolicy.IsArchitectureName(a)) is { } bad)
                    throw reader.Error(v, $"'{key}.arch' must be bios, efi, efi-ia32, efi-x64, efi-arm32, efi-arm64 or an RFC 4578 number; not '{bad}'");
            },
            ["vendor-class"] = v => vendors = reader.StringList(v, key + ".vendor-class"),
            ["user-class"] = v => users = reader.StringList(v, key + ".user-class"),
            ["uuid"] = v => uuids = reader.StringList(v, key + ".uuid"),
            ["ip"] = v =>
            {
                foreach (var text in reader.StringList(v, key + ".ip"))
                    ranges.Add(ParseAddressRange(text) ?? throw reader.Error(v, $"'{key}.ip' must be 192.0.2.0/24, 192.0.2.10-192.0.2.50 or one address; not '{text}'"));
            },
        });
        if (macs.Count + archs.Count + vendors.Count + users.Count + uuids.Count + ranges.Count == 0)
            throw reader.Error(node, $"'{key}' has no conditions; a group for everyone is boot.default");
        return new ClientMatch(macs, archs, vendors, users, uuids, ranges);
    }

    private static KnownClient ParseClient(Reader reader, YamlNode node, List<(YamlNode, string, string)> references)
    {
        string? mac = null, uuid = null, hostname = null, boot = null, menuDefault = null;
        reader.Mapping(node, "boot.clients[]", new()
        {
            ["mac"] = v =>
            {
                var text = reader.String(v, "boot.clients[].mac");
                mac = MacAddress.TryNormalize(text, out var normal) ? normal : throw reader.Error(v, $"'boot.clients[].mac' must look like 52:54:00:12:34:56, not '{text}'");
            },
            ["uuid"] = v =>
            {
                var text = reader.String(v, "boot.clients[].uuid");
                uuid = Guid.TryParseExact(text, "D", out _) ? text.ToLowerInvariant() : throw reader.Error(v, $"'boot.clients[].uuid' must look like 4c4c4544-0042-3510-8051-b4c04f4e5931, not '{text}'");
            },
            ["name"] = v =>
            {
                hostname = reader.String(v, "boot.clients[].name");
                if (!HostnamePattern().IsMatch(hostname))
                    throw reader.Error(v, $"'boot.clients[].name' must be a host name (letters, digits, - and .), not '{hostname}'");
            },
            ["boot"] = v => { boot = reader.String(v, "boot.clients[].boot"); references.Add((v, boot, "boot.clients[].boot")); },
            ["menu-default"] = v => { menuDefault = reader.String(v, "boot.clients[].menu-default"); references.Add((v, menuDefault, "boot.clients[].menu-default")); },
        });
        if (mac is null && uuid is null)
            throw reader.Error(node, "each boot client needs 'mac' or 'uuid'");
        return new KnownClient(mac, uuid, hostname, boot, menuDefault);
    }

    /// <summary>"192.0.2.0/24", "192.0.2.10-192.0.2.50" or one address.</summary>
    public static (IPAddress Start, IPAddress End)? ParseAddressRange(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            if (!IPAddress.TryParse(text.AsSpan(0, slash), out var network) || network.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 0 or > 32)
                return null;
            var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
            var start = PxeKit.Protocols.Dhcp.DhcpSubnet.ToUInt32(network) & mask;
            return (ToAddress(start), ToAddress(start | ~mask));
        }
        if (text.Contains('-', StringComparison.Ordinal))
            return ParseRange(text);
        return text.Count(c => c == '.') == 3 && IPAddress.TryParse(text, out var single) && single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? (single, single)
            : null;

        static IPAddress ToAddress(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$", RegexOptions.CultureInvariant)]
    private static partial Regex HostnamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex TargetNamePattern();

    private sealed partial class Reader
    {
        public string FileName => fileName;

        public void Sequence(YamlNode node, string key, Action<YamlNode> each)
        {
            if (node is not YamlSequenceNode sequence)
                throw Error(node, $"'{key}' must be a list (- item)");
            foreach (var item in sequence.Children)
                each(item);
        }

        /// <summary>A mapping whose keys are names the admin chooses (entries, menus), each a valid iPXE label.</summary>
        public void NamedMapping(YamlNode node, string key, Action<string, YamlNode> each)
        {
            if (node is not YamlMappingNode mapping)
                throw Error(node, $"'{key}' must be a mapping of NAME: {{...}}");
            foreach (var (nameNode, value) in mapping.Children)
            {
                var name = (nameNode as YamlScalarNode)?.Value ?? "";
                if (!TargetNamePattern().IsMatch(name) || name.StartsWith("pxekit_", StringComparison.Ordinal))
                    throw Error(nameNode, $"'{key}' name '{name}' must be letters, digits, - and _ (up to 64, not starting with pxekit_): it becomes a menu label and a URL parameter");
                each(name, value);
            }
        }

        public List<string> StringList(YamlNode node, string key) =>
            node is YamlSequenceNode sequence ? [.. sequence.Children.Select(item => String(item, key))] : [String(node, key)];

        /// <summary>Text that may hold <c>{{placeholders}}</c>; an unknown placeholder is a mistake caught now.</summary>
        public string Template(YamlNode node, string key)
        {
            var text = String(node, key);
            if (BootTemplate.UnknownNames(text).FirstOrDefault() is { } unknown)
                throw Error(node, $"'{key}' uses {{{{{unknown}}}}}, which is not a placeholder (known: {string.Join(", ", BootTemplate.Names.Keys)})");
            return text;
        }

        /// <summary>A path for every platform, or a mapping by platform (bios/efi), architecture (x86_64/i386/arm64),
        /// both (efi-x86_64) and default.</summary>
        public Boot.PlatformValue PlatformValue(YamlNode node, string key)
        {
            if (node is YamlScalarNode)
                return Boot.PlatformValue.Of(Template(node, key));
            if (node is not YamlMappingNode mapping)
                throw Error(node, $"'{key}' must be a path, or a mapping by platform such as {{bios: ..., efi: ...}}");
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (keyNode, value) in mapping.Children)
            {
                var platform = (keyNode as YamlScalarNode)?.Value ?? "";
                var canonical = ClientPlatform.CanonicalKey(platform)
                    ?? throw Error(keyNode, $"'{key}' key '{platform}' is not a platform (bios, efi), an architecture (i386, x86_64, arm64), both (efi-x86_64) or default");
                values[canonical] = Template(value, $"{key}.{platform}");
            }
            return Boot.PlatformValue.Of(values);
        }

        public List<Boot.PlatformValue> PlatformValues(YamlNode node, string key) =>
            node is YamlSequenceNode sequence ? [.. sequence.Children.Select(item => PlatformValue(item, key + "[]"))] : [PlatformValue(node, key)];
    }
}
