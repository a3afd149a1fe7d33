using System.Net;

namespace PxeKit.Server.Boot;

/// <summary>
/// A value that may differ by client platform, as the seeds' scripts do with <c>iseq ${platform} efi</c>
/// (<c>bootmgr.exe</c> on BIOS, <c>bootmgfw.efi</c> on UEFI; <c>sources/x86</c> or <c>sources/x64</c>).
/// Keys, most specific first: <c>efi-x86_64</c> (platform-buildarch), <c>x86_64</c> (buildarch), <c>efi</c>
/// (platform), <c>default</c>. A plain value applies to every platform.
/// </summary>
public sealed class PlatformValue
{
    private readonly Dictionary<string, string> _values;

    private PlatformValue(Dictionary<string, string> values) => _values = values;

    public static PlatformValue Of(string value) => new(new(StringComparer.OrdinalIgnoreCase) { ["default"] = value });

    public static PlatformValue Of(IReadOnlyDictionary<string, string> byKey)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in byKey)
            values[ClientPlatform.CanonicalKey(key) ?? key] = value;
        return new(values);
    }

    /// <summary>Keys as written (canonical), for validation and `pxekit doctor`.</summary>
    public IEnumerable<KeyValuePair<string, string>> All => _values;

    /// <summary>The value for this platform, or null when none of the keys covers it. Each architecture the client
    /// can run is tried in its order of preference (platform-architecture, then architecture) before the platform's
    /// own key and <c>default</c>.</summary>
    public string? For(ClientPlatform platform)
    {
        foreach (var arch in platform.FileArchitectures)
        {
            if ((_values.GetValueOrDefault($"{platform.Firmware}-{arch}") ?? _values.GetValueOrDefault(arch)) is { } value)
                return value;
        }
        return _values.GetValueOrDefault(platform.Firmware) ?? _values.GetValueOrDefault("default");
    }
}

/// <summary>iPXE's view of a client: <c>${platform}</c> (pcbios or efi) and <c>${buildarch}</c> (i386, x86_64,
/// arm32, arm64), and on BIOS what its CPU can run.</summary>
/// <param name="Cpu">On BIOS, <c>x86_64</c> when iPXE's <c>cpuid --ext 29</c> found long mode, else <c>i386</c>;
/// null when the client did not say. A BIOS iPXE (undionly.kpxe) is an i386 build whatever the CPU, so its
/// <c>${buildarch}</c> cannot tell a 64-bit PC from a 32-bit one; UEFI loads only images of its own architecture,
/// so there <c>${buildarch}</c> decides.</param>
public readonly record struct ClientPlatform(string Firmware, string BuildArch, string? Cpu = null)
{
    public const string PcBios = "pcbios";
    public const string Efi = "efi";

    public static readonly ClientPlatform BiosI386 = new(PcBios, "i386");
    public static readonly ClientPlatform EfiX64 = new(Efi, "x86_64");

    public bool IsEfi => Firmware == Efi;

    /// <summary>
    /// The architectures whose files (kernel, boot.wim) this client can boot, most preferred first. On BIOS a
    /// 64-bit CPU prefers x86_64 files and can still run i386 ones; a CPU that did not say gets i386 files first and
    /// x86_64 ones when those are all there is (nearly every BIOS PC in use is 64-bit); UEFI gets its own only.
    /// </summary>
    public IReadOnlyList<string> FileArchitectures => (Firmware, BuildArch, Cpu) switch
    {
        (PcBios, "x86_64", _) or (PcBios, "i386", "x86_64") => X86Preferring64,
        (PcBios, "i386", "i386") => [BuildArch],
        (PcBios, "i386", null) => X86Preferring32,
        _ => [BuildArch],
    };

    private static readonly string[] X86Preferring64 = ["x86_64", "i386"];
    private static readonly string[] X86Preferring32 = ["i386", "x86_64"];

    /// <summary>From the RFC 4578 architecture a PXE ROM reports (undionly.kpxe on BIOS is an i386 build).</summary>
    public static ClientPlatform? FromArchitecture(ushort architecture) => architecture switch
    {
        0 => BiosI386,
        6 or 15 => new(Efi, "i386"),
        7 or 9 or 16 => EfiX64,
        10 or 18 => new(Efi, "arm32"),
        11 or 19 => new(Efi, "arm64"),
        _ => null,
    };

    /// <summary>From iPXE's own settings, which a script request carries; null for anything else (the values are
    /// the client's words).</summary>
    /// <param name="cpu">What the fact-gathering script found with <c>cpuid</c> (only used on BIOS).</param>
    public static ClientPlatform? FromIpxe(string? platform, string? buildArch, string? cpu = null)
    {
        var firmware = platform?.ToLowerInvariant() switch { "pcbios" => PcBios, "efi" => Efi, _ => null };
        var arch = buildArch?.ToLowerInvariant() switch
        {
            "i386" => "i386", "x86_64" => "x86_64", "arm32" => "arm32", "arm64" => "arm64", "riscv64" => "riscv64", _ => null,
        };
        if (firmware is null || arch is null)
            return null;
        var cpuArch = firmware == PcBios ? cpu?.ToLowerInvariant() switch { "i386" => "i386", "x86_64" => "x86_64", _ => null } : null;
        return new ClientPlatform(firmware, arch, cpuArch);
    }

    /// <summary>RFC 4578 code for a platform (for templates and traces).</summary>
    public ushort Architecture => (Firmware, BuildArch) switch
    {
        (PcBios, _) => 0,
        (Efi, "i386") => 6,
        (Efi, "x86_64") => 7,
        (Efi, "arm32") => 10,
        (Efi, "arm64") => 11,
        (Efi, "riscv64") => 27,
        _ => 7,
    };

    /// <summary>"bios", "efi-x64"... the names pxekit.yaml uses for architectures.</summary>
    public string Name => (Firmware, BuildArch) switch
    {
        (PcBios, _) => "bios",
        (Efi, "i386") => "efi-ia32",
        (Efi, "x86_64") => "efi-x64",
        (Efi, "arm32") => "efi-arm32",
        (Efi, "arm64") => "efi-arm64",
        _ => $"{Firmware}-{BuildArch}",
    };

    /// <summary>Accepted spellings of per-platform keys, to the canonical one; null for an unknown key.</summary>
    public static string? CanonicalKey(string key)
    {
        var lower = key.ToLowerInvariant();
        var dash = lower.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && Firmware(lower[..dash]) is { } f && Arch(lower[(dash + 1)..]) is { } a)
            return $"{f}-{a}";
        return lower == "default" ? lower : Firmware(lower) ?? Arch(lower);

        static string? Firmware(string s) => s switch { "pcbios" or "bios" => PcBios, "efi" or "uefi" => Efi, _ => null };

        static string? Arch(string s) => s switch
        {
            "i386" or "x86" or "ia32" => "i386",
            "x86_64" or "x64" or "amd64" => "x86_64",
            "arm32" or "arm" => "arm32",
            "arm64" or "aarch64" => "arm64",
            _ => null,
        };
    }
}

/// <summary>Something a client can be told to boot: an entry or a menu, by name.</summary>
public abstract record BootTarget(string Name, string Title);

/// <summary>One way to boot, rendered per platform into an iPXE script (and, where it can, a pxelinux label).</summary>
public abstract record BootEntry(string Name, string Title) : BootTarget(Name, Title)
{
    /// <summary>The <c>kind:</c> in pxekit.yaml.</summary>
    public abstract string Kind { get; }

    /// <summary>Files in the boot root this entry needs, for `pxekit doctor` (URLs and templates left out).</summary>
    public virtual IEnumerable<(string Role, PlatformValue Path)> Files => [];
}

/// <summary>A Linux kernel with initrds and a command line.</summary>
public sealed record LinuxEntry(string Name, string Title, PlatformValue Kernel, IReadOnlyList<PlatformValue> Initrds, string? Arguments)
    : BootEntry(Name, Title)
{
    public override string Kind => "linux";

    public override IEnumerable<(string Role, PlatformValue Path)> Files =>
        [("kernel", Kernel), .. Initrds.Select(i => ("initrd", i))];
}

/// <summary>Windows PE through wimboot: bootmgr, BCD, boot.sdi and boot.wim as wimboot's virtual files.</summary>
/// <param name="Bootmgr">bootmgr.exe (BIOS) / bootmgfw.efi (UEFI); null lets wimboot take it from boot.wim.</param>
/// <param name="Bcd">The BCD store; null serves a WinPE store PxeKit generates (BIOS or UEFI).</param>
/// <param name="SanHook">An iSCSI disk to attach before WinPE starts (install Windows onto it), or null.</param>
public sealed record WimbootEntry(
    string Name, string Title, PlatformValue Wimboot, PlatformValue? Bootmgr, PlatformValue? Bcd, PlatformValue BootSdi,
    PlatformValue BootWim, string? SanHook, string? InitiatorIqn, bool KeepSan, string? WimbootArguments)
    : BootEntry(Name, Title)
{
    public override string Kind => "wimboot";

    /// <summary>Where the generated WinPE BCD stores are served when an entry names none.</summary>
    public const string GeneratedBcdBios = "pxekit/winpe-bios.bcd";
    public const string GeneratedBcdUefi = "pxekit/winpe-uefi.bcd";

    public override IEnumerable<(string Role, PlatformValue Path)> Files
    {
        get
        {
            yield return ("wimboot", Wimboot);
            if (Bootmgr is not null)
                yield return ("bootmgr", Bootmgr);
            if (Bcd is not null)
                yield return ("BCD", Bcd);
            yield return ("boot.sdi", BootSdi);
            yield return ("boot.wim", BootWim);
        }
    }
}

/// <summary>Boot from a SAN disk: an iSCSI target, or a disk or ISO image over HTTP.</summary>
public sealed record SanbootEntry(string Name, string Title, string Target, bool KeepSan, string? InitiatorIqn, bool NoDescribe)
    : BootEntry(Name, Title)
{
    public override string Kind => "sanboot";
}

/// <summary>Another iPXE script or URL (netboot.xyz, a menu elsewhere).</summary>
public sealed record ChainEntry(string Name, string Title, string Url) : BootEntry(Name, Title)
{
    public override string Kind => "chain";
}

/// <summary>syslinux's pxelinux (BIOS), showing <paramref name="Menu"/> as a generated pxelinux.cfg.</summary>
public sealed record PxelinuxEntry(string Name, string Title, string Menu, string Loader) : BootEntry(Name, Title)
{
    public override string Kind => "pxelinux";

    public override IEnumerable<(string Role, PlatformValue Path)> Files => [("pxelinux", PlatformValue.Of(Loader))];
}

/// <summary>A disk or ISO image in memory through syslinux's memdisk (BIOS only: UEFI has no INT 13h).</summary>
public sealed record MemdiskEntry(string Name, string Title, string Image, string Memdisk, bool Raw) : BootEntry(Name, Title)
{
    public override string Kind => "memdisk";

    public bool IsIso => Image.EndsWith(".iso", StringComparison.OrdinalIgnoreCase);

    public override IEnumerable<(string Role, PlatformValue Path)> Files =>
        [("memdisk", PlatformValue.Of(Memdisk)), ("image", PlatformValue.Of(Image))];
}

/// <summary>Leave the network boot: the next boot device (the local disk).</summary>
public sealed record LocalEntry(string Name, string Title) : BootEntry(Name, Title)
{
    public override string Kind => "local";
}

public sealed record ShellEntry(string Name, string Title) : BootEntry(Name, Title)
{
    public override string Kind => "shell";
}

/// <summary>iPXE text written by the admin (a template: <c>{{mac}}</c> and friends are filled in).</summary>
public sealed record ScriptEntry(string Name, string Title, string Script) : BootEntry(Name, Title)
{
    public override string Kind => "script";
}

/// <summary>A menu item: an entry, another menu, or a gap with a caption.</summary>
public sealed record MenuItem(string? Target, string? Separator, string? Key);

public sealed record BootMenu(
    string Name, string Title, IReadOnlyList<MenuItem> Items, string? Default, TimeSpan? Timeout, string? Password)
    : BootTarget(Name, Title)
{
    public IEnumerable<string> Targets => Items.Where(i => i.Target is not null).Select(i => i.Target!);
}

/// <summary>Which clients a group holds. Every condition given must hold; a condition with several values holds
/// when one of them does.</summary>
public sealed record ClientMatch(
    IReadOnlyList<string> MacPatterns,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<string> VendorClassPatterns,
    IReadOnlyList<string> UserClassPatterns,
    IReadOnlyList<string> Uuids,
    IReadOnlyList<(IPAddress Start, IPAddress End)> AddressRanges);

public sealed record ClientGroup(string Name, ClientMatch Match, string Boot, string? MenuDefault);

/// <summary>One machine named in the configuration (by MAC or UUID).</summary>
public sealed record KnownClient(string? Mac, string? Uuid, string? Hostname, string? Boot, string? MenuDefault);

/// <summary>Everything under <c>boot:</c> in pxekit.yaml, validated (every name a target refers to exists).</summary>
public sealed class BootPolicyDefinition
{
    public Dictionary<string, BootEntry> Entries { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, BootMenu> Menus { get; init; } = new(StringComparer.Ordinal);

    public List<ClientGroup> Groups { get; init; } = [];

    public List<KnownClient> Clients { get; init; } = [];

    /// <summary>Entry or menu for clients no client or group rule names.</summary>
    public string? Default { get; init; }

    /// <summary>Globs of files in the root that are rendered as templates when served (e.g. <c>*.ipxe</c>).</summary>
    public List<string> Templates { get; init; } = [];

    public BootTarget? Find(string name) =>
        Entries.TryGetValue(name, out var entry) ? entry : Menus.GetValueOrDefault(name);
}
