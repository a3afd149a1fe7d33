using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Boot.Diagnosis;

public sealed partial class ConfigurationCheck
{
    /// <summary>Check 7: configurations that load but stall unattended machines or never take effect.</summary>
    private void CheckPolicy()
    {
        if (_options.Boot is not { } boot)
        {
            Add(Finding.Info("boot", "no boot: section: clients get the root's own boot.ipxe; no entries to check"));
            return;
        }
        foreach (var menu in boot.Menus.Values.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (menu.Password is not null && menu.Default is null)
            {
                Add(Finding.Warning($"menu {menu.Name}", "has a password and no default: a machine nobody sits at waits at the password prompt for ever",
                    $"give it a default (boot.menus.{menu.Name}.default) and a timeout, or drop the password"));
            }
        }

        var reached = Reachable(boot);
        foreach (var entry in boot.Entries.Keys.Where(n => !reached.Contains(n)).Order(StringComparer.Ordinal))
        {
            Add(Finding.Warning($"entry {entry}", "no menu, group, client or boot.default leads to it, so no client can boot it",
                "add it to a menu's items or to a group's or client's boot, or remove it"));
        }
        foreach (var menu in boot.Menus.Keys.Where(n => !reached.Contains(n)).Order(StringComparer.Ordinal))
        {
            Add(Finding.Warning($"menu {menu}", "no group, client, other menu or boot.default leads to it, so no client sees it",
                "name it in boot.default, a group's or client's boot, or another menu's items; or remove it"));
        }
        if (boot.Default is null)
        {
            Add(Finding.Info("boot.default", "not set: a client that no group or client rule matches is told there is nothing to boot",
                "set boot.default (a menu, or the local entry) if unknown machines should boot something"));
        }

        for (var later = 1; later < boot.Groups.Count; later++)
        {
            for (var earlier = 0; earlier < later; earlier++)
            {
                if (Covers(boot.Groups[earlier].Match, boot.Groups[later].Match))
                {
                    Add(Finding.Warning($"group {boot.Groups[later].Name}",
                        $"can never match: group {boot.Groups[earlier].Name} comes first and matches every client it does (the first matching group wins)",
                        $"move group {boot.Groups[later].Name} above {boot.Groups[earlier].Name}, or narrow {boot.Groups[earlier].Name}'s match"));
                    break;
                }
            }
        }
    }

    /// <summary>Entries and menus some client can get to: from clients, groups and the default, through menu items
    /// and the menus pxelinux entries show.</summary>
    private static HashSet<string> Reachable(BootPolicyDefinition boot)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        foreach (var client in boot.Clients)
        {
            if (client.Boot is { } target)
                pending.Push(target);
        }
        foreach (var group in boot.Groups)
            pending.Push(group.Boot);
        if (boot.Default is { } fallback)
            pending.Push(fallback);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name))
                continue;
            switch (boot.Find(name))
            {
                case BootMenu menu:
                    foreach (var target in menu.Targets)
                        pending.Push(target);
                    break;
                case PxelinuxEntry pxelinux:
                    pending.Push(pxelinux.Menu);
                    break;
            }
        }
        return seen;
    }

    /// <summary>
    /// True when every client <paramref name="later"/> matches is also matched by <paramref name="earlier"/>: each
    /// condition the earlier group sets is set by the later one too, with values the earlier one accepts. A
    /// sufficient test, not a complete one (two overlapping globs are not compared), so it never warns wrongly.
    /// </summary>
    private static bool Covers(ClientMatch earlier, ClientMatch later) =>
        ListCovers(earlier.MacPatterns, later.MacPatterns, GlobCovers)
        && ListCovers(earlier.Architectures, later.Architectures, ArchitectureCovers)
        && ListCovers(earlier.VendorClassPatterns, later.VendorClassPatterns, GlobCovers)
        && ListCovers(earlier.UserClassPatterns, later.UserClassPatterns, GlobCovers)
        && ListCovers(earlier.Uuids, later.Uuids, (a, b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        && ListCovers(earlier.AddressRanges, later.AddressRanges, RangeCovers);

    private static bool ListCovers<T>(IReadOnlyList<T> earlier, IReadOnlyList<T> later, Func<T, T, bool> covers) =>
        earlier.Count == 0 || (later.Count > 0 && later.All(l => earlier.Any(e => covers(e, l))));

    private static bool GlobCovers(string earlier, string later) =>
        earlier == "*" || string.Equals(earlier, later, StringComparison.OrdinalIgnoreCase)
        || (!later.Contains('*', StringComparison.Ordinal) && !later.Contains('?', StringComparison.Ordinal) && BootPolicy.Glob(earlier).IsMatch(later));

    private static bool ArchitectureCovers(string earlier, string later)
    {
        if (string.Equals(earlier, later, StringComparison.OrdinalIgnoreCase))
            return true;
        // Every platform the later name stands for must match the earlier name.
        var platforms = new[] { ClientPlatform.BiosI386, new ClientPlatform(ClientPlatform.Efi, "i386"), ClientPlatform.EfiX64,
            new ClientPlatform(ClientPlatform.Efi, "arm32"), new ClientPlatform(ClientPlatform.Efi, "arm64") };
        var covered = platforms.Where(p => BootPolicy.ArchitectureMatches(later, p)).ToList();
        return covered.Count > 0 && covered.All(p => BootPolicy.ArchitectureMatches(earlier, p));
    }

    private static bool RangeCovers((System.Net.IPAddress Start, System.Net.IPAddress End) earlier, (System.Net.IPAddress Start, System.Net.IPAddress End) later) =>
        DhcpSubnet.ToUInt32(earlier.Start) <= DhcpSubnet.ToUInt32(later.Start) && DhcpSubnet.ToUInt32(later.End) <= DhcpSubnet.ToUInt32(earlier.End);
}
