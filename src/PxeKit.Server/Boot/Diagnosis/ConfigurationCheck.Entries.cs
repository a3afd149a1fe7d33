using PxeKit.Formats.Bcd;
using PxeKit.Formats.Registry;

namespace PxeKit.Server.Boot.Diagnosis;

public sealed partial class ConfigurationCheck
{
    /// <summary>Largest BCD store read: real stores are tens of KiB; anything this big is not one.</summary>
    private const int MaxBcdBytes = 16 << 20;

    /// <summary>Check 2: every file each entry loads, for every platform it names, as HTTP resolves it.</summary>
    private void CheckEntries()
    {
        if (_options.Boot is not { } boot)
            return;
        foreach (var entry in boot.Entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            foreach (var (role, value) in entry.Files)
            {
                foreach (var (key, path) in value.All.OrderBy(p => p.Key, StringComparer.Ordinal))
                    CheckEntryFile(entry, role, key, path);
            }
            if (entry is WimbootEntry { Bcd: null } wimboot)
            {
                Add(Finding.Ok(EntrySubject(wimboot, null),
                    $"BCD: none named, so PxeKit serves the WinPE store it generates ({WimbootEntry.GeneratedBcdBios} for BIOS, {WimbootEntry.GeneratedBcdUefi} for UEFI)"));
            }
        }
    }

    private static string EntrySubject(BootEntry entry, string? platformKey) =>
        $"{entry.Kind} entry {entry.Name}" + (platformKey is null or "default" ? "" : $" ({platformKey})");

    private void CheckEntryFile(BootEntry entry, string role, string platformKey, string path)
    {
        var subject = EntrySubject(entry, platformKey);
        if (IsUrl(path))
        {
            Add(Finding.Ok(subject, $"{role} {path}: a URL, not checked"));
            return;
        }
        if (IsTemplate(path))
        {
            Add(Finding.Ok(subject, $"{role} {path}: filled in per client, not checked"));
            return;
        }
        // wimboot's files are the ones Windows knows by backslashed names (\Boot\BCD); say them that way.
        var shown = entry is WimbootEntry && role != "wimboot" ? "\\" + path.TrimStart('/', '\\').Replace('/', '\\') : path;
        var who = $"{role} {shown}";
        var lookup = _files.Resolve(path);
        if (!lookup.IsFound)
        {
            if (Installable(path) is { } source)
            {
                Add(Finding.Ok(subject, $"{who}: not in {RootText} yet; pxekit serve copies it from {source} at start"));
                return;
            }
            if (entry is WimbootEntry && role != "wimboot")
                who = $"asked for {shown}";
            // Debian packages iPXE but not wimboot, so "copy it" alone leaves the admin asking where from.
            var origin = entry is WimbootEntry && role == "wimboot"
                ? " (no Debian package has wimboot: the iPXE project releases it as one file, wimboot, for BIOS and x86_64 UEFI alike)"
                : "";
            ReportMissing(subject, who, lookup, $"copy it to {Path.Join(RootText, path)}{origin} or correct boot.entries.{entry.Name}");
            return;
        }
        if (role == "BCD")
        {
            CheckBcd(subject, who, lookup, needsRamdisk: entry is WimbootEntry);
            return;
        }
        Add(Finding.Ok(subject, $"{who}: found as {lookup.MappedName}" + (lookup.MatchedIgnoringCase ? " (matched ignoring letter case)" : "")));
    }

    /// <summary>The store opens as a registry hive with the BCD layout; for WinPE through wimboot its default entry
    /// must be an OS loader whose device is a ramdisk (what <c>pxekit bcd winpe</c> writes), or bootmgr stops
    /// with 0xc000000f.</summary>
    private void CheckBcd(string subject, string who, BootFileLookup lookup, bool needsRamdisk)
    {
        byte[] bytes;
        try
        {
            bytes = lookup.Content ?? ReadSmallFile(lookup.FullPath!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Add(Finding.Error(subject, $"{who}: cannot be read: {e.Message}", "make it readable by the user pxekit serve runs as"));
            return;
        }
        BcdStore store;
        try
        {
            store = BcdStore.Open(bytes);
        }
        catch (Exception e) when (e is HiveFormatException or BcdException)
        {
            Add(Finding.Error(subject, $"{who}: not a readable BCD store: {e.Message}",
                "write a new one with `pxekit bcd winpe PATH` (add --uefi for UEFI), or name no bcd and let PxeKit generate one"));
            return;
        }
        var where = lookup.Content is null ? $"{lookup.MappedName}" : $"{lookup.MappedName}, generated";
        if (!needsRamdisk)
        {
            Add(Finding.Ok(subject, $"{who}: a readable BCD store ({where})"));
            return;
        }
        var defaultId = store.DefaultObject;
        var loader = defaultId is { } id ? store.Find(id) : null;
        if (loader is null)
        {
            Add(Finding.Error(subject, $"{who}: the BCD store has no default boot entry ({{bootmgr}} names none that exists), so bootmgr has nothing to start",
                "write a WinPE store with `pxekit bcd winpe PATH` (--uefi for UEFI), or set one with `pxekit bcd default PATH {ID}`"));
            return;
        }
        var device = loader.Get(BcdElementTypes.OsDevice)?.AsDevice(out _);
        if (loader.Type != BcdObjectTypes.OsLoader || device?.Device is not BcdDevice.Ramdisk ramdisk)
        {
            Add(Finding.Error(subject, $"{who}: the default entry {loader} does not boot Windows from a ramdisk (osdevice is not ramdisk=...), which WinPE over wimboot needs",
                "write a WinPE store with `pxekit bcd winpe PATH` (--uefi for UEFI): it boots \\sources\\boot.wim from a ramdisk"));
            return;
        }
        Add(Finding.Ok(subject, $"{who}: a readable BCD store ({where}); its default entry boots the ramdisk {ramdisk.Path}"));
    }

    private static byte[] ReadSmallFile(string path)
    {
        using var handle = File.OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        if (length > MaxBcdBytes)
            throw new IOException($"{length} bytes is far larger than any BCD store");
        var bytes = new byte[length];
        var read = RandomAccess.Read(handle, bytes, 0);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    /// <summary>pxelinux.0 loads ldlinux.c32 from its own folder; PxeKit's generated pxelinux.cfg shows
    /// <c>UI menu.c32</c>, which needs libutil.c32.</summary>
    private static readonly string[] PxelinuxModules = ["ldlinux.c32", "menu.c32", "libutil.c32"];

    /// <summary>Check 4: syslinux modules for pxelinux entries; memdisk and pxelinux are BIOS programs.</summary>
    private void CheckSyslinux()
    {
        if (_options.Boot is not { } boot)
            return;
        var loaders = boot.Entries.Values.OfType<PxelinuxEntry>().Select(e => e.Loader).Distinct(StringComparer.Ordinal);
        foreach (var loader in loaders)
        {
            if (IsUrl(loader))
                continue;
            var folder = loader.Replace('\\', '/').TrimStart('/');
            folder = folder.Contains('/', StringComparison.Ordinal) ? folder[..(folder.LastIndexOf('/') + 1)] : "";
            // An entry with other files for 32-bit PCs is split by ifcpu64.c32 (libcom32.c32 is what it links to).
            var modules = boot.Entries.Values.OfType<LinuxEntry>().Any(PxelinuxConfigRenderer.DiffersByCpu)
                ? [.. PxelinuxModules, PxelinuxConfigRenderer.CpuCheckModule, "libcom32.c32"]
                : PxelinuxModules;
            foreach (var module in modules)
            {
                var path = folder + module;
                var subject = "pxelinux " + path;
                var lookup = _files.Resolve(path);
                if (lookup.IsFound)
                    Add(Finding.Ok(subject, $"{path}: found as {lookup.MappedName}"));
                else if (Installable(path) is { } source)
                    Add(Finding.Ok(subject, $"{path}: not in {RootText} yet; pxekit serve copies it from {source} at start"));
                else
                    ReportMissing(subject, $"{loader} loads {path}", lookup,
                        $"install Debian's pxelinux and syslinux-common packages (pxekit serve copies the files at start) or copy {module} from the same syslinux version next to {loader}");
            }
        }

        foreach (var entry in boot.Entries.Values.Where(e => e is MemdiskEntry or PxelinuxEntry).OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var reachedBy = UefiRoutesTo(boot, entry.Name);
            if (reachedBy.Count == 0)
                continue;
            var why = entry is MemdiskEntry ? "memdisk is BIOS only (UEFI has no INT 13h to hook)" : "pxelinux is a BIOS loader";
            Add(Finding.Warning(EntrySubject(entry, null), $"{why}, but UEFI clients can reach it through {string.Join(", ", reachedBy)}",
                "offer it only where BIOS clients are (a group with match.arch: bios, or a menu only they get); UEFI clients get a message instead of a boot"));
        }
    }

    /// <summary>Groups matching UEFI architectures, and the default, from which <paramref name="entryName"/> can be
    /// reached (directly or through menus).</summary>
    private List<string> UefiRoutesTo(BootPolicyDefinition boot, string entryName)
    {
        var routes = new List<string>();
        foreach (var group in boot.Groups)
        {
            if (group.Match.Architectures.Any(IsUefiArchitecture) && Reaches(boot, group.Boot, entryName))
                routes.Add($"group {group.Name}");
        }
        if (boot.Default is { } fallback && Reaches(boot, fallback, entryName))
            routes.Add($"boot.default ({fallback})");
        return routes;
    }

    private static bool IsUefiArchitecture(string name) =>
        name is "efi" or "uefi" || name.StartsWith("efi-", StringComparison.Ordinal)
        || (ushort.TryParse(name, out var code) && ClientPlatform.FromArchitecture(code) is { IsEfi: true });

    /// <summary>Whether booting <paramref name="start"/> can lead to <paramref name="entryName"/> through iPXE menus.</summary>
    private static bool Reaches(BootPolicyDefinition boot, string start, string entryName)
    {
        if (start == entryName)
            return true;
        if (boot.Find(start) is not BootMenu menu)
            return false;
        var policy = new BootPolicy(boot);
        return policy.ReachableMenus(menu).Any(name => boot.Menus[name].Targets.Contains(entryName, StringComparer.Ordinal));
    }
}
