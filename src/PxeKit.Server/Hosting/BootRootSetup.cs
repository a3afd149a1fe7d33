using Microsoft.Extensions.Logging;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Prepares the boot root at start: creates it, copies Debian's iPXE binaries in when they are missing and writes a
/// default <c>boot.ipxe</c>, so that a fresh <c>pxekit serve</c> can boot a machine as soon as DHCP points at it.
/// Existing files are never overwritten: the root belongs to the admin.
/// </summary>
public static partial class BootRootSetup
{
    /// <summary>BIOS (UNDI), UEFI x64 with its own drivers, UEFI x64 over the firmware's network stack.</summary>
    public static readonly string[] IpxeBinaries = ["undionly.kpxe", "ipxe.efi", "snponly.efi"];

    public const string DefaultScriptName = "boot.ipxe";

    public static void Prepare(PxeKitOptions options, ILogger logger)
    {
        Directory.CreateDirectory(options.Root);
        Directory.CreateDirectory(options.DataDirectory);

        if (options.Ipxe.InstallBinaries)
        {
            var missingSource = new List<string>();
            foreach (var name in IpxeBinaries)
            {
                var target = Path.Combine(options.Root, name);
                if (File.Exists(target))
                    continue;
                var source = Path.Combine(options.Ipxe.SourceDirectory, name);
                if (!File.Exists(source))
                {
                    missingSource.Add(name);
                    continue;
                }
                File.Copy(source, target);
                LogCopied(logger, name, options.Ipxe.SourceDirectory);
            }
            if (missingSource.Count > 0)
                LogIpxeMissing(logger, string.Join(", ", missingSource), options.Ipxe.SourceDirectory);
        }

        if (options.Boot is { } boot)
            CopySyslinux(options, boot, logger);

        // With a boot: section the policy makes boot.ipxe per client; a file of that name would be ignored.
        var script = Path.Combine(options.Root, DefaultScriptName);
        if (options.Ipxe.WriteDefaultScript && options.Boot is null && !File.Exists(script))
        {
            File.WriteAllText(script, DefaultScript);
            LogWroteScript(logger, script);
        }
    }

    /// <summary>Where Debian's pxelinux and syslinux-common packages put what pxelinux and memdisk entries load.</summary>
    public static readonly (string Name, string Source)[] SyslinuxFiles =
    [
        ("pxelinux.0", "/usr/lib/PXELINUX/pxelinux.0"),
        ("ldlinux.c32", "/usr/lib/syslinux/modules/bios/ldlinux.c32"),
        ("menu.c32", "/usr/lib/syslinux/modules/bios/menu.c32"),
        ("libutil.c32", "/usr/lib/syslinux/modules/bios/libutil.c32"),
        ("libcom32.c32", "/usr/lib/syslinux/modules/bios/libcom32.c32"),
        (PxeKit.Server.Boot.PxelinuxConfigRenderer.CpuCheckModule, "/usr/lib/syslinux/modules/bios/ifcpu64.c32"),
    ];

    public const string MemdiskSource = "/usr/lib/syslinux/memdisk";

    private static void CopySyslinux(PxeKitOptions options, PxeKit.Server.Boot.BootPolicyDefinition boot, ILogger logger)
    {
        var wanted = new List<(string Name, string Source)>();
        if (boot.Entries.Values.Any(e => e is PxeKit.Server.Boot.PxelinuxEntry))
            wanted.AddRange(SyslinuxFiles);
        foreach (var memdisk in boot.Entries.Values.OfType<PxeKit.Server.Boot.MemdiskEntry>())
            wanted.Add((memdisk.Memdisk, MemdiskSource));
        foreach (var (name, source) in wanted.Distinct())
        {
            var target = Path.Combine(options.Root, name);
            if (File.Exists(target) || name.Contains("..", StringComparison.Ordinal))
                continue;
            if (!File.Exists(source))
            {
                LogSyslinuxMissing(logger, name, source);
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
            LogCopied(logger, name, Path.GetDirectoryName(source)!);
        }
    }

    /// <summary>A menu that works before anything is configured: it says where it came from and offers the usual
    /// ways out. Boot entries and per-client menus come from the boot policy.</summary>
    public const string DefaultScript = """
        #!ipxe
        # Written by pxekit at first start; edit freely, pxekit never overwrites it.
        echo PxeKit: ${platform} ${buildarch} client ${net0/mac} at ${net0/ip}, boot server ${next-server}
        menu PxeKit - nothing is configured to boot yet
        item local   Boot from the local disk
        item shell   iPXE shell
        item reboot  Reboot
        choose --default local --timeout 10000 target && goto ${target}
        :local
        sanboot --no-describe --drive 0x80 || exit
        :shell
        shell
        :reboot
        reboot

        """;

    [LoggerMessage(1300, LogLevel.Information, "Copied {Name} from {Source} into the boot root")]
    private static partial void LogCopied(ILogger logger, string name, string source);

    [LoggerMessage(1301, LogLevel.Warning, "iPXE binaries {Names} are not in {Source}; install Debian's 'ipxe' package or put them in the boot root yourself")]
    private static partial void LogIpxeMissing(ILogger logger, string names, string source);

    [LoggerMessage(1303, LogLevel.Warning, "{Name} is not in the boot root and {Source} does not exist; install Debian's pxelinux and syslinux-common packages or copy it yourself")]
    private static partial void LogSyslinuxMissing(ILogger logger, string name, string source);

    [LoggerMessage(1302, LogLevel.Information, "Wrote a default iPXE script to {Path}")]
    private static partial void LogWroteScript(ILogger logger, string path);
}
