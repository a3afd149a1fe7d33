using System.Net;
using System.Text.RegularExpressions;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Boot;

/// <summary>What a client boots and why.</summary>
/// <param name="Target">The entry or menu.</param>
/// <param name="Reason">"client ws01 (52:54:00:12:34:56)", "group uefi-lab", "default" - for traces and logs.</param>
/// <param name="MenuDefault">The item a menu preselects for this client, when a client or group overrides it.</param>
/// <param name="Hostname">The configured name of the client, when it has one.</param>
public sealed record BootDecision(BootTarget Target, string Reason, string? MenuDefault, string? Hostname);

/// <summary>
/// Decides per client: a client rule by MAC, then by UUID; then the groups in the order written; then the default.
/// First match wins, so a per-MAC override always beats the group its machine is in.
/// </summary>
public sealed class BootPolicy
{
    private readonly Dictionary<string, KnownClient> _byMac = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KnownClient> _byUuid = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(ClientGroup Group, Regex[] Macs, Regex[] VendorClasses, Regex[] UserClasses)> _groups = [];

    public BootPolicy(BootPolicyDefinition definition)
    {
        Definition = definition;
        foreach (var client in definition.Clients)
        {
            if (client.Mac is { } mac)
                _byMac[mac] = client;
            if (client.Uuid is { } uuid)
                _byUuid[uuid] = client;
        }
        foreach (var group in definition.Groups)
        {
            _groups.Add((group,
                [.. group.Match.MacPatterns.Select(Glob)],
                [.. group.Match.VendorClassPatterns.Select(Glob)],
                [.. group.Match.UserClassPatterns.Select(Glob)]));
        }
    }

    public BootPolicyDefinition Definition { get; }

    /// <summary>The configured client for this MAC or UUID, if any (its name is the trusted hostname).</summary>
    public KnownClient? FindClient(string mac, string? uuid) =>
        _byMac.GetValueOrDefault(mac) ?? (uuid is null ? null : _byUuid.GetValueOrDefault(uuid));

    /// <summary>Null only when nothing matches and there is no default.</summary>
    public BootDecision? Decide(ClientFacts facts)
    {
        var client = FindClient(facts.Mac, facts.Uuid);
        if (client?.Boot is { } boot)
        {
            var who = client.Hostname is null ? facts.Mac : $"{client.Hostname} ({facts.Mac})";
            return new BootDecision(Definition.Find(boot)!, $"client {who}", client.MenuDefault, client.Hostname);
        }
        foreach (var (group, macs, vendors, users) in _groups)
        {
            if (Matches(group.Match, macs, vendors, users, facts))
                return new BootDecision(Definition.Find(group.Boot)!, $"group {group.Name}", client?.MenuDefault ?? group.MenuDefault, client?.Hostname);
        }
        return Definition.Default is { } fallback
            ? new BootDecision(Definition.Find(fallback)!, "default", client?.MenuDefault, client?.Hostname)
            : null;
    }

    /// <summary>Menus a client may open from <paramref name="start"/>: itself and every menu its items reach. A
    /// script request naming a menu or entry outside this set is refused, so a client cannot pick an entry its
    /// menu does not offer.</summary>
    public IReadOnlySet<string> ReachableMenus(BootTarget start)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        if (start is BootMenu)
            pending.Push(start.Name);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name) || !Definition.Menus.TryGetValue(name, out var menu))
                continue;
            foreach (var target in menu.Targets)
            {
                if (Definition.Menus.ContainsKey(target))
                    pending.Push(target);
            }
        }
        return seen;
    }

    /// <summary>
    /// Whether a client whose boot target is <paramref name="start"/> may open <paramref name="menuName"/>, given the
    /// password it typed (null for none). Menus its own menu leads to without a password are open; a menu with a
    /// password opens only its default item to everyone (an unattended machine must still boot), and the rest of
    /// what lies behind it to the one who knows that password, submenus included.
    /// </summary>
    public bool MayOpenMenu(BootTarget start, string menuName, string? password, string? startDefault = null)
    {
        if (start is not BootMenu top || !Definition.Menus.ContainsKey(menuName))
            return false;
        if (OpenFrom(top, unlocked: false, startDefault).Contains(menuName))
            return true;
        if (string.IsNullOrEmpty(password))
            return false;
        foreach (var name in ReachableMenus(top))
        {
            var guard = Definition.Menus[name];
            if (guard.Password is { } secret && PasswordMatches(secret, password)
                && OpenFrom(guard, unlocked: true, name == top.Name ? startDefault : null).Contains(menuName))
                return true;
        }
        return false;
    }

    /// <summary>Menus reachable from <paramref name="from"/> without typing a password: a password menu on the way
    /// leads on only through its default item (unless it is <paramref name="from"/> and <paramref name="unlocked"/>).</summary>
    private HashSet<string> OpenFrom(BootMenu from, bool unlocked, string? fromDefault)
    {
        var open = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Name, bool Unlocked, string? Default)>();
        pending.Push((from.Name, unlocked, fromDefault));
        while (pending.TryPop(out var next))
        {
            if (!open.Add(next.Name) || !Definition.Menus.TryGetValue(next.Name, out var menu))
                continue;
            var defaultItem = next.Default is not null && menu.Targets.Contains(next.Default) ? next.Default : menu.Default;
            foreach (var target in menu.Targets)
            {
                if (Definition.Menus.ContainsKey(target) && (menu.Password is null || next.Unlocked || target == defaultItem))
                    pending.Push((target, false, null));
            }
        }
        return open;
    }

    /// <summary>Compared in fixed time over hashes, so neither the length nor the first wrong character shows in
    /// how long the answer takes.</summary>
    public static bool PasswordMatches(string expected, string given) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected)),
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(given)));

    private static bool Matches(ClientMatch match, Regex[] macs, Regex[] vendors, Regex[] users, ClientFacts facts)
    {
        if (macs.Length > 0 && !macs.Any(m => m.IsMatch(facts.Mac)))
            return false;
        if (match.Architectures.Count > 0 && (facts.Platform is not { } platform || !match.Architectures.Any(a => ArchitectureMatches(a, platform))))
            return false;
        if (vendors.Length > 0 && (facts.VendorClass is not { } vendor || !vendors.Any(v => v.IsMatch(vendor))))
            return false;
        if (users.Length > 0 && (facts.UserClass is not { } user || !users.Any(u => u.IsMatch(user))))
            return false;
        if (match.Uuids.Count > 0 && (facts.Uuid is not { } uuid || !match.Uuids.Contains(uuid, StringComparer.OrdinalIgnoreCase)))
            return false;
        if (match.AddressRanges.Count > 0 && (facts.Address is not { } address || !match.AddressRanges.Any(r => InRange(address, r))))
            return false;
        return true;
    }

    /// <summary>"bios", "efi-x64", "efi" (any UEFI), or an RFC 4578 number.</summary>
    public static bool ArchitectureMatches(string name, ClientPlatform platform) => name switch
    {
        "efi" or "uefi" => platform.IsEfi,
        _ when ushort.TryParse(name, out var code) => ClientPlatform.FromArchitecture(code)?.Name == platform.Name,
        _ => string.Equals(name, platform.Name, StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>Names accepted for <c>match.arch</c>.</summary>
    public static bool IsArchitectureName(string name) =>
        name is "bios" or "efi" or "uefi" or "efi-ia32" or "efi-x64" or "efi-arm32" or "efi-arm64"
        || (ushort.TryParse(name, out var code) && ClientPlatform.FromArchitecture(code) is not null);

    private static bool InRange(IPAddress address, (IPAddress Start, IPAddress End) range)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            return false;
        var value = DhcpSubnet.ToUInt32(address);
        return value >= DhcpSubnet.ToUInt32(range.Start) && value <= DhcpSubnet.ToUInt32(range.End);
    }

    /// <summary>Shell-style glob (<c>*</c>, <c>?</c>), case-insensitive, whole value.</summary>
    public static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
}
