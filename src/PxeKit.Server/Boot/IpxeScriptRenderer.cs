using System.Globalization;
using System.Text;

namespace PxeKit.Server.Boot;

/// <summary>
/// Writes the iPXE script for one client: a menu with every item's commands under a label, or one entry. Each
/// entry is written for the client's platform (the seeds' <c>iseq ${platform} efi &amp;&amp; ...</c> lines are
/// decided here instead, so the client only ever sees the lines that apply to it). Client-supplied text only
/// reaches the script through <see cref="BootTemplate"/>, which makes it inert.
/// </summary>
public sealed class IpxeScriptRenderer(BootPolicy policy)
{
    /// <summary>The script for a decision: the menu or the entry it names.</summary>
    /// <param name="scriptUrl">This script's URL with the client's facts in the query, for menus that chain back
    /// (submenus, password checks).</param>
    public string Render(BootDecision decision, ClientFacts facts, string scriptUrl)
    {
        var script = Header(facts, decision.Target is BootMenu ? $"menu '{decision.Target.Name}' ({decision.Reason})" : $"entry '{decision.Target.Name}' ({decision.Reason})");
        if (decision.Target is BootMenu menu)
            WriteMenu(script, menu, decision.MenuDefault, facts, scriptUrl);
        else
            WriteStandalone(script, (BootEntry)decision.Target, facts, menuUrl: null);
        return script.ToString();
    }

    /// <summary>One menu, opened from another (a submenu item chains here).</summary>
    public string RenderMenu(BootMenu menu, string? menuDefault, ClientFacts facts, string scriptUrl, string reason)
    {
        var script = Header(facts, $"menu '{menu.Name}' ({reason})");
        WriteMenu(script, menu, menuDefault, facts, scriptUrl);
        return script.ToString();
    }

    /// <summary>One entry on its own (a password-protected menu item, after the server checked the password).</summary>
    public string RenderEntry(BootEntry entry, ClientFacts facts, string? menuUrl, string reason)
    {
        var script = Header(facts, $"entry '{entry.Name}' ({reason})");
        WriteStandalone(script, entry, facts, menuUrl);
        return script.ToString();
    }

    /// <summary>A script that shows a reason on the client's screen and gives up, for requests we cannot serve.</summary>
    public static string Refusal(string message) =>
        $"#!ipxe\necho PxeKit: {OneLine(message)}\nprompt --timeout 15000 Press any key to continue ||\nexit 1\n";

    private static StringBuilder Header(ClientFacts facts, string what)
    {
        var script = new StringBuilder(1024);
        script.Append("#!ipxe\n");
        script.Append(CultureInfo.InvariantCulture, $"# PxeKit: {facts.Mac} ({facts.Platform?.Name ?? "unknown platform"}): {OneLine(what)}\n");
        return script;
    }

    private void WriteMenu(StringBuilder script, BootMenu menu, string? menuDefault, ClientFacts facts, string scriptUrl)
    {
        var defaultItem = menuDefault is not null && menu.Targets.Contains(menuDefault) ? menuDefault : menu.Default;
        script.Append(":pxekit_menu\n");
        script.Append(CultureInfo.InvariantCulture, $"menu {OneLine(menu.Title)}\n");
        foreach (var item in menu.Items)
        {
            if (item.Separator is { } caption)
            {
                script.Append(CultureInfo.InvariantCulture, $"item --gap -- {OneLine(caption)}\n");
                continue;
            }
            var target = policy.Definition.Find(item.Target!)!;
            var key = item.Key is null ? "" : $"--key {item.Key} ";
            var title = target is BootMenu ? $"{target.Title} >" : target.Title;
            script.Append(CultureInfo.InvariantCulture, $"item {key}{Label(target.Name)} {OneLine(title)}\n");
        }
        script.Append("choose");
        if (defaultItem is not null)
            script.Append(CultureInfo.InvariantCulture, $" --default {Label(defaultItem)}");
        if (menu.Timeout is { } timeout)
            script.Append(CultureInfo.InvariantCulture, $" --timeout {(long)timeout.TotalMilliseconds}");
        // Escape at the menu leaves network boot, as a firmware menu's Escape does.
        script.Append(" target || goto pxekit_exit\n");
        script.Append("goto ${target}\n");

        foreach (var item in menu.Items)
        {
            if (item.Target is null)
                continue;
            var target = policy.Definition.Find(item.Target)!;
            script.Append(CultureInfo.InvariantCulture, $"\n:{Label(target.Name)}\n");
            if (target is BootMenu submenu)
            {
                // A submenu behind a password is opened by the server only with it; the password the client typed
                // earlier (iPXE keeps ${password}) goes along, so deeper menus open too.
                if (menu.Password is not null && target.Name != defaultItem)
                    script.Append("login || goto pxekit_menu\n");
                script.Append(CultureInfo.InvariantCulture, $"chain --autofree {scriptUrl}&menu={submenu.Name}&password=${{password:uristring}} || goto pxekit_failed\n");
            }
            else if (menu.Password is not null && target.Name != defaultItem)
            {
                // The password is checked by the server, so it never appears in a script. The default item
                // (what runs after the timeout) needs none: an unattended machine must still boot.
                script.Append("login || goto pxekit_menu\n");
                script.Append(CultureInfo.InvariantCulture,
                    $"chain --autofree {scriptUrl}&menu={menu.Name}&entry={target.Name}&password=${{password:uristring}} || goto pxekit_menu\n");
            }
            else
            {
                WriteEntry(script, (BootEntry)target, facts);
            }
            // A shell or an admin's script that ends has done its job: back to the menu, not "did not boot".
            script.Append(target is ShellEntry or ScriptEntry ? "goto pxekit_menu\n" : "goto pxekit_failed\n");
        }
        script.Append("\n:pxekit_failed\n");
        script.Append("echo PxeKit: ${target} did not boot: ${errno}\n");
        script.Append("prompt --timeout 10000 Press any key to return to the menu ||\n");
        script.Append("goto pxekit_menu\n");
        script.Append("\n:pxekit_exit\n");
        script.Append("exit 1\n");
    }

    private static void WriteStandalone(StringBuilder script, BootEntry entry, ClientFacts facts, string? menuUrl)
    {
        WriteEntry(script, entry, facts);
        if (entry is ShellEntry or ScriptEntry)
            script.Append("exit 0\n");
        script.Append("\n:pxekit_failed\n");
        script.Append(CultureInfo.InvariantCulture, $"echo PxeKit: {OneLine(entry.Title)} did not boot: ${{errno}}\n");
        if (menuUrl is not null)
        {
            script.Append("prompt --timeout 10000 Press any key to return to the menu ||\n");
            script.Append(CultureInfo.InvariantCulture, $"chain --autofree {menuUrl}\n");
        }
        else
        {
            script.Append("prompt --timeout 10000 Press any key to continue ||\n");
            script.Append("exit 1\n");
        }
    }

    /// <summary>The commands of one entry for this client's platform; each failure goes to <c>:pxekit_failed</c>.</summary>
    internal static void WriteEntry(StringBuilder script, BootEntry entry, ClientFacts facts)
    {
        var platform = facts.Platform ?? ClientPlatform.BiosI386;
        switch (entry)
        {
            case LinuxEntry linux:
                WriteLinux(script, linux, facts, platform);
                break;
            case WimbootEntry wimboot:
                WriteWimboot(script, wimboot, facts, platform);
                break;
            case SanbootEntry san:
                script.Append("imgfree\n");
                WriteSanSettings(script, san.InitiatorIqn, san.KeepSan, facts);
                script.Append("sanboot");
                if (san.KeepSan)
                    script.Append(" --keep");
                if (san.NoDescribe)
                    script.Append(" --no-describe");
                script.Append(CultureInfo.InvariantCulture, $" {Url(san.Target, facts)} || goto pxekit_failed\n");
                break;
            case ChainEntry chain:
                script.Append(CultureInfo.InvariantCulture, $"chain --autofree {Url(chain.Url, facts)} || goto pxekit_failed\n");
                break;
            case PxelinuxEntry pxelinux when platform.IsEfi:
                Unsupported(script, pxelinux, "pxelinux boots BIOS clients only; give UEFI clients another entry");
                break;
            case PxelinuxEntry pxelinux:
                // pxelinux takes its configuration file (option 209) and path prefix (option 210) from the DHCP
                // settings iPXE hands it; it then fetches ldlinux.c32 and its menu over TFTP.
                script.Append(CultureInfo.InvariantCulture, $"set 210:string {facts.TftpBase}/\n");
                script.Append(CultureInfo.InvariantCulture, $"set 209:string {PxelinuxConfigRenderer.EntryConfigName(pxelinux)}\n");
                script.Append(CultureInfo.InvariantCulture, $"chain {facts.TftpBase}/{PathUrl(pxelinux.Loader)} || goto pxekit_failed\n");
                break;
            case MemdiskEntry memdisk when platform.IsEfi:
                Unsupported(script, memdisk, "memdisk works on BIOS only (UEFI has no INT 13h); use sanboot of an ISO over HTTP instead");
                break;
            case MemdiskEntry memdisk:
                script.Append("imgfree\n");
                script.Append(CultureInfo.InvariantCulture, $"kernel {Url(memdisk.Memdisk, facts)}");
                if (memdisk.IsIso)
                    script.Append(" iso");
                if (memdisk.Raw)
                    script.Append(" raw");
                script.Append(" || goto pxekit_failed\n");
                script.Append(CultureInfo.InvariantCulture, $"initrd {Url(memdisk.Image, facts)} || goto pxekit_failed\n");
                script.Append("boot || goto pxekit_failed\n");
                break;
            case LocalEntry when platform.IsEfi:
                // Returning to the firmware makes its boot manager try the next boot option.
                script.Append("exit 0\n");
                break;
            case LocalEntry:
                // On BIOS, INT 18h (what exit leads to) hangs or reboots on many machines; booting drive 0x80
                // directly is the reliable way to the local disk.
                script.Append("sanboot --no-describe --drive 0x80 || exit 1\n");
                break;
            case ShellEntry:
                script.Append("shell\n");
                break;
            case ScriptEntry custom:
                foreach (var line in BootTemplate.Expand(custom.Script, facts).Split('\n'))
                {
                    var trimmed = line.TrimEnd('\r');
                    if (trimmed.StartsWith("#!ipxe", StringComparison.Ordinal))
                        continue;
                    script.Append(trimmed).Append('\n');
                }
                break;
            default:
                throw new InvalidOperationException($"no iPXE rendering for {entry.Kind}");
        }
    }

    private static void WriteLinux(StringBuilder script, LinuxEntry linux, ClientFacts facts, ClientPlatform platform)
    {
        var kernel = linux.Kernel.For(platform);
        if (kernel is null)
        {
            Unsupported(script, linux, $"no kernel for {platform.Name}");
            return;
        }
        var initrds = linux.Initrds.Select(i => i.For(platform)).OfType<string>().ToList();
        script.Append("imgfree\n");
        script.Append(CultureInfo.InvariantCulture, $"kernel {Url(kernel, facts)}");
        if (platform.IsEfi)
        {
            // Under UEFI the kernel's EFI stub loads initrds by the names on its command line.
            foreach (var initrd in initrds)
                script.Append(CultureInfo.InvariantCulture, $" initrd={FileName(initrd)}");
        }
        if (linux.Arguments is { Length: > 0 } arguments)
            script.Append(' ').Append(OneLine(BootTemplate.Expand(arguments, facts)));
        script.Append(" || goto pxekit_failed\n");
        foreach (var initrd in initrds)
            script.Append(CultureInfo.InvariantCulture, $"initrd -n {FileName(initrd)} {Url(initrd, facts)} || goto pxekit_failed\n");
        script.Append("boot || goto pxekit_failed\n");
    }

    private static void WriteWimboot(StringBuilder script, WimbootEntry wim, ClientFacts facts, ClientPlatform platform)
    {
        var wimboot = wim.Wimboot.For(platform);
        var sdi = wim.BootSdi.For(platform);
        var bootWim = wim.BootWim.For(platform);
        if (wimboot is null || sdi is null || bootWim is null)
        {
            Unsupported(script, wim, $"no {(wimboot is null ? "wimboot" : sdi is null ? "boot.sdi" : "boot.wim")} for {platform.Name}");
            return;
        }
        script.Append("imgfree\n");
        if (wim.SanHook is { } san)
        {
            // The seeds' first boot of a diskless install: attach the iSCSI disk, then start WinPE to install onto it.
            WriteSanSettings(script, wim.InitiatorIqn, wim.KeepSan, facts);
            script.Append(CultureInfo.InvariantCulture, $"sanhook {Url(san, facts)} || goto pxekit_failed\n");
        }
        script.Append(CultureInfo.InvariantCulture, $"kernel {Url(wimboot, facts)}");
        if (wim.WimbootArguments is { Length: > 0 } arguments)
            script.Append(' ').Append(OneLine(arguments));
        script.Append(" || goto pxekit_failed\n");
        if (wim.Bootmgr?.For(platform) is { } bootmgr)
            script.Append(CultureInfo.InvariantCulture, $"initrd -n {(platform.IsEfi ? "bootmgfw.efi" : "bootmgr.exe")} {Url(bootmgr, facts)} || goto pxekit_failed\n");
        var bcd = wim.Bcd?.For(platform) ?? (platform.IsEfi ? WimbootEntry.GeneratedBcdUefi : WimbootEntry.GeneratedBcdBios);
        script.Append(CultureInfo.InvariantCulture, $"initrd -n BCD {Url(bcd, facts)} || goto pxekit_failed\n");
        script.Append(CultureInfo.InvariantCulture, $"initrd -n boot.sdi {Url(sdi, facts)} || goto pxekit_failed\n");
        script.Append(CultureInfo.InvariantCulture, $"initrd -n boot.wim {Url(bootWim, facts)} || goto pxekit_failed\n");
        script.Append("boot || goto pxekit_failed\n");
    }

    private static void WriteSanSettings(StringBuilder script, string? initiatorIqn, bool keepSan, ClientFacts facts)
    {
        // The seeds clear the DHCP gateway first so that the iSCSI session goes straight to the target on the LAN.
        if (initiatorIqn is not null)
            script.Append(CultureInfo.InvariantCulture, $"set initiator-iqn {OneLine(BootTemplate.Expand(initiatorIqn, facts))}\n");
        if (keepSan)
            script.Append("set keep-san 1\n");
    }

    private static void Unsupported(StringBuilder script, BootEntry entry, string why)
    {
        script.Append(CultureInfo.InvariantCulture, $"echo PxeKit: {OneLine(entry.Title)}: {OneLine(why)}\n");
        script.Append("goto pxekit_failed\n");
    }

    /// <summary>A URL for a file: root paths become URLs on this server's HTTP; URLs and iPXE expressions are kept.</summary>
    public static string Url(string pathOrUrl, ClientFacts facts)
    {
        var value = BootTemplate.Expand(pathOrUrl, facts);
        if (value.Contains("://", StringComparison.Ordinal) || value.StartsWith("iscsi:", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("aoe:", StringComparison.OrdinalIgnoreCase) || value.StartsWith("${", StringComparison.Ordinal))
            return OneLine(value);
        // The path is encoded segment by segment; a query (a server-side script's "?{{mac-hyphen}}") is kept.
        var query = value.IndexOf('?', StringComparison.Ordinal);
        return query < 0
            ? $"{facts.HttpBase}/{PathUrl(value)}"
            : $"{facts.HttpBase}/{PathUrl(value[..query])}{OneLine(value[query..])}";
    }

    /// <summary>A root path as URL path segments, each percent-encoded, backslashes as slashes.</summary>
    private static string PathUrl(string path) =>
        string.Join('/', path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));

    private static string FileName(string path)
    {
        var name = path.Replace('\\', '/');
        var query = name.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
            name = name[..query];
        return Uri.EscapeDataString(name[(name.LastIndexOf('/') + 1)..]);
    }

    /// <summary>Entry and menu names are validated as [A-Za-z0-9_-] at load, not starting with pxekit_ (our own
    /// labels), so they are safe labels.</summary>
    private static string Label(string name) => name;

    /// <summary>Configuration text on one script line: a newline in a title must not start a new command.</summary>
    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');
}
