using PxeKit.Formats.Bcd;
using PxeKit.Server.Boot.Diagnosis;

namespace PxeKit.Tests.Server.Boot.Diagnosis;

/// <summary>`pxekit doctor`'s configuration checks, each against a broken root it must catch and a clean one it must pass.</summary>
public sealed class ConfigurationCheckTests : IDisposable
{
    private readonly DiagnosisRoot root = new();

    public void Dispose() => root.Dispose();

    private const string Proxy = "dhcp:\n  mode: proxy\n  interface: lo\n";

    private DiagnosisRoot CleanIpxe() => root
        .Write("undionly.kpxe", DiagnosisRoot.BiosImage)
        .Write("ipxe.efi", DiagnosisRoot.PeImage(0x8664));

    // Check 1: boot files per architecture.

    [Fact]
    public void A_missing_boot_file_names_the_architecture_that_gets_it()
    {
        root.Write("undionly.kpxe", DiagnosisRoot.BiosImage);
        var findings = root.Check(Proxy);
        var finding = findings.Single(FindingSeverity.Error, $"UEFI x64 (7) gets ipxe.efi: not in {root.Root}");
        Assert.Equal("dhcp.boot-files efi-x64", finding.Subject);
        findings.Single(FindingSeverity.Error, $"UEFI HTTP x64 (16) gets ipxe.efi: not in {root.Root}");
        findings.Single(FindingSeverity.Ok, "BIOS (0) gets undionly.kpxe: found as undionly.kpxe");
    }

    [Fact]
    public void Default_boot_files_present_and_right_pass()
    {
        var findings = CleanIpxe().Check(Proxy);
        findings.NoneAbout("dhcp.boot-files", FindingSeverity.Warning);
        Assert.Equal(4, findings.Count(f => f.Subject.StartsWith("dhcp.boot-files", StringComparison.Ordinal)));
    }

    [Fact]
    public void Boot_files_are_resolved_through_the_remap_rules_as_tftp_resolves_them()
    {
        CleanIpxe();
        var yaml = Proxy + "  boot-files: {bios: pxe/undionly.kpxe}\ntftp:\n  remap:\n    - {match: '^pxe/', replace: ''}\n";
        root.Check(yaml).Single(FindingSeverity.Ok, "BIOS (0) gets pxe/undionly.kpxe: found as undionly.kpxe");
    }

    [Fact]
    public void A_boot_file_that_differs_only_in_letter_case_says_to_enable_case_insensitive_lookup()
    {
        CleanIpxe();
        var yaml = Proxy + "  boot-files: {bios: UNDIONLY.KPXE}\ntftp: {case-insensitive: false}\n";
        root.Check(yaml).Single(FindingSeverity.Error,
            "BIOS (0) gets UNDIONLY.KPXE: not found; undionly.kpxe exists - enable case-insensitive lookup (tftp.case-insensitive: true) or rename undionly.kpxe to UNDIONLY.KPXE");
        root.Check(yaml.Replace("false", "true", StringComparison.Ordinal)).Single(FindingSeverity.Ok, "found as undionly.kpxe (matched ignoring letter case)");
    }

    [Fact]
    public void A_url_boot_file_is_not_checked_and_says_so() =>
        CleanIpxe().Check(Proxy + "  boot-files: {efi-arm64: 'http://192.0.2.1/arm64.efi'}\n")
            .Single(FindingSeverity.Ok, "UEFI ARM64 (11) gets http://192.0.2.1/arm64.efi: a URL, not checked");

    [Fact]
    public void A_missing_ipxe_binary_serve_will_copy_in_is_ok_and_names_the_source()
    {
        var source = root.WritePackageFile("ipxe.efi", DiagnosisRoot.PeImage(0x8664));
        root.Write("undionly.kpxe", DiagnosisRoot.BiosImage);
        var findings = root.Check(Proxy, new Dictionary<string, string> { ["ipxe.efi"] = source });
        findings.Single(FindingSeverity.Ok, $"UEFI x64 (7) gets ipxe.efi: not in {root.Root} yet; pxekit serve copies it from {source} at start");
        findings.NoneAbout("dhcp.boot-files", FindingSeverity.Warning);
    }

    // Check 3: the binary suits the firmware.

    [Fact]
    public void A_bios_binary_named_for_uefi_clients_is_an_error_even_before_it_exists() =>
        CleanIpxe().Check(Proxy + "  boot-files: {efi-x64: undionly.kpxe}\n")
            .Single(FindingSeverity.Error, "UEFI x64 (7) gets undionly.kpxe: UEFI x64 clients would get a BIOS binary");

    [Fact]
    public void An_efi_binary_named_for_bios_clients_is_an_error() =>
        CleanIpxe().Check(Proxy + "  boot-files: {bios: ipxe.efi}\n")
            .Single(FindingSeverity.Error, "BIOS (0) gets ipxe.efi: BIOS clients would get a UEFI binary");

    [Fact]
    public void Content_that_contradicts_the_name_is_caught()
    {
        root.Write("undionly.kpxe", DiagnosisRoot.PeImage(0x8664)).Write("ipxe.efi", DiagnosisRoot.BiosImage);
        var findings = root.Check(Proxy);
        findings.Single(FindingSeverity.Error, "BIOS (0) gets undionly.kpxe: undionly.kpxe is a PE/UEFI image (starts with MZ), but BIOS clients need a BIOS binary");
        findings.Single(FindingSeverity.Error, "UEFI x64 (7) gets ipxe.efi: ipxe.efi is no PE/UEFI image");
    }

    [Fact]
    public void A_uefi_binary_for_another_cpu_is_caught_by_its_pe_machine()
    {
        CleanIpxe().Write("arm64.efi", DiagnosisRoot.PeImage(0x8664));
        root.Check(Proxy + "  boot-files: {efi-arm64: arm64.efi}\n")
            .Single(FindingSeverity.Error, "UEFI ARM64 (11) gets arm64.efi: arm64.efi is a UEFI x86_64 image; UEFI ARM64 (11) clients need arm64");
        root.Write("arm64.efi", DiagnosisRoot.PeImage(0xAA64));
        root.Check(Proxy + "  boot-files: {efi-arm64: arm64.efi}\n").Single(FindingSeverity.Ok, "UEFI ARM64 (11) gets arm64.efi: found as arm64.efi");
    }

    [Fact]
    public void With_dhcp_off_the_ipxe_binaries_in_the_root_are_checked_instead()
    {
        var findings = root.Check("");
        findings.Single(FindingSeverity.Info, "DHCP is off");
        findings.Single(FindingSeverity.Warning, $"undionly.kpxe: not in {root.Root} and not in {root.Packages}");
        CleanIpxe().Write("snponly.efi", DiagnosisRoot.PeImage(0x8664));
        root.Check("").None(FindingSeverity.Warning);
    }

    // Check 2: entry files.

    private const string Wimboot = """
        tftp: {case-insensitive: false}
        boot:
          default: winpe
          entries:
            winpe:
              kind: wimboot
              bcd: Boot/BCD
              boot-sdi: boot/boot.sdi
              boot-wim: sources/boot.wim
        """;

    private DiagnosisRoot WinPeFiles(byte[] bcd) => root
        .Write("wimboot", "w").Write("boot/bcd", bcd).Write("boot/boot.sdi", "s").Write("sources/boot.wim", "w");

    [Fact]
    public void A_bcd_named_with_other_letter_case_than_on_disk_is_an_error_without_case_insensitive_lookup()
    {
        var findings = WinPeFiles(DiagnosisRoot.WinPeBcd(BcdFirmware.Bios)).Check(Wimboot);
        var finding = findings.Single(FindingSeverity.Error,
            @"asked for \Boot\BCD: not found; boot/bcd exists - enable case-insensitive lookup (tftp.case-insensitive: true) or rename boot/bcd to Boot/BCD");
        Assert.Equal("wimboot entry winpe", finding.Subject);
    }

    [Fact]
    public void A_wimboot_entry_with_its_files_in_place_passes_and_its_bcd_boots_a_ramdisk()
    {
        var findings = WinPeFiles(DiagnosisRoot.WinPeBcd(BcdFirmware.Bios)).Check(Wimboot.Replace("false", "true", StringComparison.Ordinal));
        findings.None(FindingSeverity.Error);
        findings.NoneAbout("winpe", FindingSeverity.Warning);
        findings.Single(FindingSeverity.Ok, @"BCD \Boot\BCD: a readable BCD store (boot/bcd); its default entry boots the ramdisk \sources\boot.wim");
    }

    [Fact]
    public void A_bcd_that_is_no_hive_reports_the_readers_error()
    {
        var finding = WinPeFiles("this is not a registry hive"u8.ToArray()).Check(Wimboot.Replace("Boot/BCD", "boot/bcd", StringComparison.Ordinal))
            .Single(FindingSeverity.Error, "not a readable BCD store: ");
        Assert.Contains("pxekit bcd winpe", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disk_bcd_given_to_wimboot_is_an_error_because_it_boots_no_ramdisk() =>
        WinPeFiles(DiagnosisRoot.WindowsDiskBcd()).Check(Wimboot.Replace("Boot/BCD", "boot/bcd", StringComparison.Ordinal))
            .Single(FindingSeverity.Error, "does not boot Windows from a ramdisk");

    [Fact]
    public void A_missing_wimboot_is_an_error_that_says_debian_does_not_package_it()
    {
        var finding = root.Write("boot/bcd", DiagnosisRoot.WinPeBcd(BcdFirmware.Bios)).Write("boot/boot.sdi", "s").Write("sources/boot.wim", "w")
            .Check(Wimboot.Replace("Boot/BCD", "boot/bcd", StringComparison.Ordinal))
            .Single(FindingSeverity.Error, "wimboot wimboot: not in ");
        Assert.Contains("no Debian package has wimboot", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wimboot_entry_naming_no_bcd_is_ok_because_pxekit_generates_one()
    {
        var findings = WinPeFiles([]).Check(Wimboot.Replace("      bcd: Boot/BCD\n", "", StringComparison.Ordinal));
        findings.Single(FindingSeverity.Ok, "BCD: none named, so PxeKit serves the WinPE store it generates");
        findings.None(FindingSeverity.Error);
    }

    [Fact]
    public void Every_platform_key_of_an_entry_file_is_checked_and_named()
    {
        root.Write("debian/amd64/linux");
        var findings = root.Check("""
            boot:
              default: debian
              entries:
                debian: {kind: linux, kernel: {x86_64: debian/amd64/linux, arm64: debian/arm64/linux}}
            """);
        var missing = findings.Single(FindingSeverity.Error, $"kernel debian/arm64/linux: not in {root.Root}");
        Assert.Equal("linux entry debian (arm64)", missing.Subject);
        findings.Single(FindingSeverity.Ok, "kernel debian/amd64/linux: found as debian/amd64/linux");
    }

    [Fact]
    public void Urls_and_templated_paths_in_entries_are_skipped_with_a_note()
    {
        var findings = root.Check("""
            boot:
              default: debian
              entries:
                debian: {kind: linux, kernel: 'http://mirror.example/linux', initrd: 'hosts/{{hostname}}/initrd'}
            """);
        findings.Single(FindingSeverity.Ok, "kernel http://mirror.example/linux: a URL, not checked");
        findings.Single(FindingSeverity.Ok, "initrd hosts/{{hostname}}/initrd: filled in per client, not checked");
        findings.None(FindingSeverity.Error);
    }

    // Check 4: pxelinux and memdisk.

    private const string Syslinux = """
        boot:
          default: main
          entries:
            dos: {kind: memdisk, image: images/fd.img}
            classic: {kind: pxelinux, menu: main}
          menus:
            main: {items: [dos, classic], default: dos, timeout: 5s}
        """;

    [Fact]
    public void Syslinux_files_missing_with_no_package_to_copy_them_from_are_errors()
    {
        root.Write("images/fd.img");
        var findings = root.Check(Syslinux.Replace("default: main\n", "default: main\n  groups:\n    - {name: bios, match: {arch: bios}, boot: main}\n", StringComparison.Ordinal));
        findings.Single(FindingSeverity.Error, "pxelinux.0 loads ldlinux.c32: not in");
        findings.Single(FindingSeverity.Error, $"memdisk memdisk: not in {root.Root}");
        findings.Single(FindingSeverity.Error, $"pxelinux pxelinux.0: not in {root.Root}");
    }

    [Fact]
    public void Syslinux_files_serve_will_copy_from_debians_packages_are_ok()
    {
        root.Write("images/fd.img");
        var installable = new Dictionary<string, string>();
        foreach (var name in new[] { "pxelinux.0", "ldlinux.c32", "menu.c32", "libutil.c32", "memdisk" })
            installable[name] = root.WritePackageFile(name, [1]);
        var findings = root.Check(Syslinux, installable);
        findings.Single(FindingSeverity.Ok, $"ldlinux.c32: not in {root.Root} yet; pxekit serve copies it from {installable["ldlinux.c32"]} at start");
        findings.None(FindingSeverity.Error);
    }

    [Fact]
    public void A_linux_entry_with_other_files_for_32_bit_pcs_needs_ifcpu64_and_libcom32_beside_pxelinux()
    {
        root.Write("images/fd.img").Write("memdisk").Write("pxelinux.0").Write("ldlinux.c32").Write("menu.c32").Write("libutil.c32")
            .Write("amd64/linux").Write("i386/linux");
        var split = Syslinux.Replace("dos: {kind: memdisk, image: images/fd.img}",
            "dos: {kind: linux, kernel: {x86_64: amd64/linux, i386: i386/linux}}", StringComparison.Ordinal);
        var findings = root.Check(split);
        findings.Single(FindingSeverity.Error, "pxelinux.0 loads ifcpu64.c32: not in");
        findings.Single(FindingSeverity.Error, "pxelinux.0 loads libcom32.c32: not in");

        root.Check(split.Replace("i386: i386/linux", "i386: amd64/linux", StringComparison.Ordinal)).None(FindingSeverity.Error);
    }

    [Fact]
    public void A_memdisk_entry_uefi_clients_can_reach_is_a_warning()
    {
        root.Write("images/fd.img").Write("memdisk").Write("pxelinux.0").Write("ldlinux.c32").Write("menu.c32").Write("libutil.c32");
        var viaUefiGroup = Syslinux.Replace("default: main\n", "default: classic\n  groups:\n    - {name: uefi-lab, match: {arch: efi}, boot: main}\n", StringComparison.Ordinal);
        var finding = root.Check(viaUefiGroup).Single(FindingSeverity.Warning, "memdisk is BIOS only");
        Assert.Contains("group uefi-lab", finding.Message, StringComparison.Ordinal);
        Assert.Equal("memdisk entry dos", finding.Subject);

        var biosOnly = Syslinux.Replace("default: main\n", "groups:\n    - {name: bios-lab, match: {arch: bios}, boot: main}\n", StringComparison.Ordinal);
        root.Check(biosOnly).NoneAbout("memdisk entry dos", FindingSeverity.Warning);
    }

    // Check 7: policies that load but stall or never apply.

    [Fact]
    public void A_password_menu_without_a_default_is_a_warning()
    {
        root.Write("linux");
        const string yaml = """
            boot:
              default: main
              entries: {debian: {kind: linux, kernel: linux}}
              menus:
                main: {items: [debian], password: secret}
            """;
        Assert.Equal("menu main", root.Check(yaml).Single(FindingSeverity.Warning, "has a password and no default").Subject);
        root.Check(yaml.Replace("password: secret", "password: secret, default: debian", StringComparison.Ordinal)).NoneAbout("menu main", FindingSeverity.Warning);
    }

    [Fact]
    public void An_entry_nothing_leads_to_is_a_warning()
    {
        root.Write("linux");
        const string yaml = """
            boot:
              default: main
              entries:
                debian: {kind: linux, kernel: linux}
                old: {kind: local}
              menus:
                main: {items: [debian], default: debian}
            """;
        Assert.Equal("entry old", root.Check(yaml).Single(FindingSeverity.Warning, "no menu, group, client or boot.default leads to it").Subject);
        root.Check(yaml.Replace("items: [debian]", "items: [debian, old]", StringComparison.Ordinal)).NoneAbout("entry old", FindingSeverity.Warning);
    }

    [Fact]
    public void A_group_an_earlier_group_shadows_is_a_warning()
    {
        const string groups = """
            boot:
              default: disk
              entries: {disk: {kind: local}, shell: {kind: shell}}
              groups:
                - {name: uefi, match: {arch: efi}, boot: disk}
                - {name: uefi-lab, match: {arch: efi-x64, mac: "52:54:00:*"}, boot: shell}
            """;
        var finding = root.Check(groups).Single(FindingSeverity.Warning, "can never match: group uefi comes first");
        Assert.Equal("group uefi-lab", finding.Subject);

        var reordered = """
            boot:
              default: disk
              entries: {disk: {kind: local}, shell: {kind: shell}}
              groups:
                - {name: uefi-lab, match: {arch: efi-x64, mac: "52:54:00:*"}, boot: shell}
                - {name: uefi, match: {arch: efi}, boot: disk}
            """;
        root.Check(reordered).NoneAbout("group", FindingSeverity.Warning);
    }
}
