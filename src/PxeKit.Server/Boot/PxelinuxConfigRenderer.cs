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

    /// <summary>The syslinux module that picks a label by the CPU (long mode or not).</summary>
    public const string CpuCheckModule = "ifcpu64.c32";

    private static readonly ClientPlatform Bios64 = new(ClientPlatform.PcBios, "i386", Cpu: "x86_64");
    private static readonly ClientPlatform Bios32 = new(ClientPlatform.PcBios, "i386", Cpu: "i386");

    /// <summary>
    /// Whether a 64-bit and a 32-bit BIOS PC boot different files from this entry. pxelinux cannot ask the server
    /// with its CPU as iPXE does, so such an entry becomes two hidden labels and <see cref="CpuCheckModule"/> picks
    /// one on the machine itself.
    /// </summary>
    public static bool DiffersByCpu(LinuxEntry linux) =>
        linux.Kernel.For(Bios32) is not null
        && (linux.Kernel.For(Bios64) != linux.Kernel.For(Bios32) || linux.Initrds.Any(i => i.For(Bios64) != i.For(Bios32)));

    private static void WriteLabel(StringBuilder config, BootEntry entry, ClientFacts facts)
    {
        var bios = facts with { Platform = ClientPlatform.BiosI386 };
        switch (entry)
        {
            case LinuxEntry linux when DiffersByCpu(linux):
                // Labels NAME.x86_64 and NAME.i386 cannot meet an entry's own name, which has no dot.
                config.Append(CultureInfo.InvariantCulture,
                    $"\nLABEL {entry.Name}\n  MENU LABEL {OneLine(entry.Title)}\n  COM32 {CpuCheckModule}\n  APPEND {entry.Name}.x86_64 -- {entry.Name}.i386\n");
                WriteLinux(config, linux, $"{entry.Name}.x86_64", title: null, facts with { Platform = Bios64 });
                WriteLinux(config, linux, $"{entry.Name}.i386", title: null, facts with { Platform = Bios32 });
                break;
            case LinuxEntry linux when linux.Kernel.For(ClientPlatform.BiosI386) is not null:
                WriteLinux(config, linux, entry.Name, entry.Title, bios);
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

    /// <summary>One label booting the entry's kernel for <paramref name="facts"/>' platform; without a title it is
    /// hidden from the menu (a label that only <see cref="CpuCheckModule"/> chooses).</summary>
    private static void WriteLinux(StringBuilder config, LinuxEntry linux, string label, string? title, ClientFacts facts)
    {
        var platform = facts.Platform!.Value;
        config.Append(CultureInfo.InvariantCulture, $"\nLABEL {label}\n");
        config.Append(title is null ? "  MENU HIDE\n" : $"  MENU LABEL {OneLine(title)}\n");
        config.Append(CultureInfo.InvariantCulture, $"  KERNEL {Path(linux.Kernel.For(platform)!, facts)}\n");
        var initrds = linux.Initrds.Select(i => i.For(platform)).OfType<string>().Select(i => Path(i, facts)).ToList();
        if (initrds.Count > 0)
            config.Append(CultureInfo.InvariantCulture, $"  INITRD {string.Join(',', initrds)}\n");
        if (linux.Arguments is { Length: > 0 } arguments)
            config.Append(CultureInfo.InvariantCulture, $"  APPEND {OneLine(BootTemplate.Expand(arguments, facts))}\n");
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
