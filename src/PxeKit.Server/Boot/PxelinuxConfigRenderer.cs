using System.Globalization;
using System.Text;

namespace PxeKit.Server.Boot;

/// <summary>
/// Writes pxelinux configurations from the same entries and menus as the iPXE scripts, for BIOS clients that run
/// Debian's pxelinux.0: <c>pxelinux.cfg/01-52-54-00-12-34-56</c> per client (what pxelinux asks for first),
/// <c>pxelinux.cfg/default</c> for the rest, and one file per <c>pxelinux</c> entry. Kinds pxelinux cannot run
/// (wimboot, sanboot, chain, shell, script) are left out of its menu with a comment saying why.
/// </summary>
public sealed class PxelinuxConfigRenderer(BootPolicy policy)
{
    public const string Directory = "pxelinux.cfg";

    /// <summary>The configuration file an iPXE <c>pxelinux</c> entry points pxelinux at (option 209).</summary>
    public static string EntryConfigName(PxelinuxEntry entry) => $"{Directory}/pxekit-{entry.Name}";

    /// <summary>The generated file for a name under pxelinux.cfg/, or null when it is not one of ours.</summary>
    /// <param name="name">Mapped path in the root, e.g. "pxelinux.cfg/01-52-54-00-12-34-56".</param>
    /// <param name="factsFor">Facts for a MAC (address and UUID from the trace), with the BIOS platform.</param>
    public string? Render(string name, Func<string, ClientFacts> factsFor, ClientFacts anonymous)
    {
        if (!name.StartsWith(Directory + "/", StringComparison.OrdinalIgnoreCase))
            return null;
        var file = name[(Directory.Length + 1)..];
        if (file.StartsWith("pxekit-", StringComparison.Ordinal)
            && policy.Definition.Entries.GetValueOrDefault(file["pxekit-".Length..]) is PxelinuxEntry entry)
        {
            var menu = policy.Definition.Menus[entry.Menu];
            return Write(menu, null, anonymous, $"entry '{entry.Name}'");
        }
        if (file.Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            var decision = policy.Definition.Default is { } d ? new BootDecision(policy.Definition.Find(d)!, "default", null, null) : null;
            return decision is null ? null : Write(decision, anonymous);
        }
        // "01-" is the ARP hardware type of Ethernet, as pxelinux spells it.
        if (file.Length == 20 && file.StartsWith("01-", StringComparison.Ordinal) && MacAddress.TryNormalize(file.AsSpan(3), out var mac))
        {
            var facts = factsFor(mac);
            return policy.Decide(facts) is { } decision ? Write(decision, facts) : null;
        }
        return null;
    }

    private string Write(BootDecision decision, ClientFacts facts) => decision.Target switch
    {
        BootMenu menu => Write(menu, decision.MenuDefault, facts, decision.Reason),
        PxelinuxEntry pxelinux => Write(policy.Definition.Menus[pxelinux.Menu], decision.MenuDefault, facts, decision.Reason),
        BootEntry entry => WriteSingle(entry, facts, decision.Reason),
        _ => throw new InvalidOperationException(),
    };

    private string Write(BootMenu menu, string? menuDefault, ClientFacts facts, string reason)
    {
        var config = new StringBuilder(1024);
        config.Append(CultureInfo.InvariantCulture, $"# PxeKit: {For(facts)}menu '{menu.Name}' ({reason})\n");
        config.Append("UI menu.c32\n");
        config.Append(CultureInfo.InvariantCulture, $"MENU TITLE {OneLine(menu.Title)}\n");
        var defaultItem = menuDefault is not null && menu.Targets.Contains(menuDefault) ? menuDefault : menu.Default;
        if (defaultItem is not null)
            config.Append(CultureInfo.InvariantCulture, $"DEFAULT {defaultItem}\n");
        // pxelinux counts the timeout in tenths of a second; 0 would wait forever.
        config.Append(CultureInfo.InvariantCulture, $"TIMEOUT {(menu.Timeout is { } t ? Math.Max(1, (int)(t.TotalSeconds * 10)) : 0)}\n");
        foreach (var item in menu.Items)
        {
            if (item.Separator is { } caption)
            {
                config.Append(CultureInfo.InvariantCulture, $"\nMENU SEPARATOR\nLABEL -\n  MENU LABEL {OneLine(caption)}\n  MENU DISABLE\n");
                continue;
            }
            if (policy.Definition.Find(item.Target!) is BootEntry entry)
                WriteLabel(config, entry, facts);
            else
                config.Append(CultureInfo.InvariantCulture, $"\n# {item.Target}: submenus are iPXE only\n");
        }
        return config.ToString();
    }

    private static string WriteSingle(BootEntry entry, ClientFacts facts, string reason)
    {
        var config = new StringBuilder(512);
        config.Append(CultureInfo.InvariantCulture, $"# PxeKit: {For(facts)}entry '{entry.Name}' ({reason})\n");
        config.Append(CultureInfo.InvariantCulture, $"DEFAULT {entry.Name}\n");
        WriteLabel(config, entry, facts);
        return config.ToString();
    }

    private static void WriteLabel(StringBuilder config, BootEntry entry, ClientFacts facts)
    {
        var bios = facts with { Platform = ClientPlatform.BiosI386 };
        switch (entry)
        {
            case LinuxEntry linux when linux.Kernel.For(ClientPlatform.BiosI386) is { } kernel:
                config.Append(CultureInfo.InvariantCulture, $"\nLABEL {entry.Name}\n  MENU LABEL {OneLine(entry.Title)}\n  KERNEL {Path(kernel, bios)}\n");
                var initrds = linux.Initrds.Select(i => i.For(ClientPlatform.BiosI386)).OfType<string>().Select(i => Path(i, bios)).ToList();
                if (initrds.Count > 0)
                    config.Append(CultureInfo.InvariantCulture, $"  INITRD {string.Join(',', initrds)}\n");
                if (linux.Arguments is { Length: > 0 } arguments)
                    config.Append(CultureInfo.InvariantCulture, $"  APPEND {OneLine(BootTemplate.Expand(arguments, bios))}\n");
                break;
            case MemdiskEntry memdisk:
                config.Append(CultureInfo.InvariantCulture, $"\nLABEL {entry.Name}\n  MENU LABEL {OneLine(entry.Title)}\n  KERNEL {Path(memdisk.Memdisk, bios)}\n");
                config.Append(CultureInfo.InvariantCulture, $"  INITRD {Path(memdisk.Image, bios)}\n");
                var options = (memdisk.IsIso ? "iso" : "") + (memdisk.Raw ? " raw" : "");
                if (options.Trim().Length > 0)
                    config.Append(CultureInfo.InvariantCulture, $"  APPEND {options.Trim()}\n");
                break;
            case LocalEntry:
                config.Append(CultureInfo.InvariantCulture, $"\nLABEL {entry.Name}\n  MENU LABEL {OneLine(entry.Title)}\n  LOCALBOOT 0\n");
                break;
            default:
                config.Append(CultureInfo.InvariantCulture, $"\n# {entry.Name}: a {entry.Kind} entry cannot run under pxelinux (boot it through iPXE)\n");
                break;
        }
    }

    /// <summary>pxelinux fetches relative names over TFTP from its own directory; root paths are written from the
    /// root, and URLs are kept (lpxelinux.0 fetches http://).</summary>
    private static string Path(string pathOrUrl, ClientFacts facts)
    {
        var value = BootTemplate.Expand(pathOrUrl, facts);
        return value.Contains("://", StringComparison.Ordinal) ? OneLine(value) : "/" + OneLine(value.Replace('\\', '/').TrimStart('/'));
    }

    /// <summary>"52:54:00:12:34:56: ", or nothing for the files every client may read (default, pxekit-NAME).</summary>
    private static string For(ClientFacts facts) => facts.Mac.Length == 0 ? "" : facts.Mac + ": ";

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');
}
