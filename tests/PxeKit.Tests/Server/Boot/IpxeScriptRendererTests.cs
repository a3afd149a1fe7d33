using System.Net;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using static PxeKit.Tests.Server.Boot.BootPolicyFixture;

namespace PxeKit.Tests.Server.Boot;

public class IpxeScriptRendererTests
{
    private const string ScriptUrl = "http://192.0.2.1:8080/boot.ipxe?mac=52:54:00:aa:00:09&platform=efi&buildarch=x86_64";

    private static string RenderEntry(string yaml, string entry, ClientPlatform platform, ClientFacts? facts = null)
    {
        var policy = new BootPolicy(ConfigFile.Parse(yaml).Boot!);
        return new IpxeScriptRenderer(policy).RenderEntry(policy.Definition.Entries[entry],
            (facts ?? Facts("52:54:00:12:34:56")) with { Platform = platform }, menuUrl: null, "test");
    }

    [Fact]
    public void Linux_on_uefi_names_each_initrd_on_the_kernel_command_line()
    {
        var script = RenderEntry("""
            boot:
              entries:
                debian: {kind: linux, kernel: debian/linux, initrd: [debian/initrd.gz, debian/firmware.cpio], args: console=ttyS0}
            """, "debian", ClientPlatform.EfiX64);
        Assert.Contains("kernel http://192.0.2.1:8080/debian/linux initrd=initrd.gz initrd=firmware.cpio console=ttyS0 || goto pxekit_failed\n", script);
        Assert.Contains("initrd -n initrd.gz http://192.0.2.1:8080/debian/initrd.gz || goto pxekit_failed\n", script);
        Assert.Contains("initrd -n firmware.cpio http://192.0.2.1:8080/debian/firmware.cpio || goto pxekit_failed\n", script);
        Assert.Contains("boot || goto pxekit_failed\n", script);
    }

    [Fact]
    public void Linux_on_bios_has_no_initrd_arguments()
    {
        var script = RenderEntry("""
            boot:
              entries:
                debian: {kind: linux, kernel: debian/linux, initrd: debian/initrd.gz, args: console=ttyS0}
            """, "debian", ClientPlatform.BiosI386);
        Assert.Contains("kernel http://192.0.2.1:8080/debian/linux console=ttyS0 || goto pxekit_failed\n", script);
        Assert.DoesNotContain("initrd=", script);
    }

    [Fact]
    public void Per_architecture_paths_pick_the_most_specific_key()
    {
        const string yaml = """
            boot:
              entries:
                k: {kind: linux, kernel: {efi-x86_64: a, x86_64: b, efi: c, default: d}}
            """;
        Assert.Contains("/a ", RenderEntry(yaml, "k", ClientPlatform.EfiX64));
        Assert.Contains("/b ", RenderEntry(yaml, "k", new ClientPlatform("pcbios", "x86_64")));
        Assert.Contains("/c ", RenderEntry(yaml, "k", new ClientPlatform("efi", "arm64")));
        // A BIOS PC with a 32-bit CPU can run none of the x86_64 files.
        Assert.Contains("/d ", RenderEntry(yaml, "k", new ClientPlatform("pcbios", "i386", Cpu: "i386")));
    }

    [Fact]
    public void An_architecture_without_a_kernel_is_told_so_on_screen()
    {
        var script = RenderEntry("boot: {entries: {k: {kind: linux, title: Debian, kernel: {x86_64: a}}}}", "k", new ClientPlatform("efi", "arm64"));
        Assert.Contains("echo PxeKit: Debian: no kernel for efi-arm64\ngoto pxekit_failed\n", script);
        Assert.DoesNotContain("kernel http", script);
    }

    [Fact]
    public void Wimboot_on_bios_loads_bootmgr_exe_and_the_bios_bcd_as_in_the_seeds()
    {
        var policy = Lab();
        var script = new IpxeScriptRenderer(policy).RenderEntry(policy.Definition.Entries["winpe"],
            Facts("52:54:00:12:34:56", ClientPlatform.BiosI386), null, "test");
        Assert.Contains("""
            kernel http://192.0.2.1:8080/wimboot || goto pxekit_failed
            initrd -n bootmgr.exe http://192.0.2.1:8080/bootmgr.exe || goto pxekit_failed
            initrd -n BCD http://192.0.2.1:8080/boot/bcd || goto pxekit_failed
            initrd -n boot.sdi http://192.0.2.1:8080/boot/boot.sdi || goto pxekit_failed
            initrd -n boot.wim http://192.0.2.1:8080/sources/x86/boot.wim || goto pxekit_failed
            boot || goto pxekit_failed
            """.ReplaceLineEndings("\n"), script);
    }

    [Fact]
    public void Wimboot_on_uefi_loads_bootmgfw_and_the_efi_bcd()
    {
        var policy = Lab();
        var script = new IpxeScriptRenderer(policy).RenderEntry(policy.Definition.Entries["winpe"], Facts("52:54:00:12:34:56"), null, "test");
        Assert.Contains("initrd -n bootmgfw.efi http://192.0.2.1:8080/bootmgfw.efi ||", script);
        Assert.Contains("initrd -n BCD http://192.0.2.1:8080/efi/microsoft/boot/bcd ||", script);
        Assert.Contains("initrd -n boot.wim http://192.0.2.1:8080/sources/x64/boot.wim ||", script);
        Assert.DoesNotContain("bootmgr.exe", script);
    }

    [Fact]
    public void Wimboot_without_a_bcd_uses_the_store_pxekit_generates_for_the_firmware()
    {
        const string yaml = "boot: {entries: {pe: {kind: wimboot, boot-wim: sources/boot.wim}}}";
        Assert.Contains("initrd -n BCD http://192.0.2.1:8080/pxekit/winpe-uefi.bcd ||", RenderEntry(yaml, "pe", ClientPlatform.EfiX64));
        Assert.Contains("initrd -n BCD http://192.0.2.1:8080/pxekit/winpe-bios.bcd ||", RenderEntry(yaml, "pe", ClientPlatform.BiosI386));
    }

    [Fact]
    public void Wimboot_with_sanhook_attaches_the_iscsi_disk_first_like_the_seeds_first_install_boot()
    {
        var script = RenderEntry("""
            boot:
              entries:
                install:
                  kind: wimboot
                  boot-wim: sources/boot.wim
                  sanhook: "iscsi:{{server}}::::iqn.2026-11.lab:{{mac-hex}}"
                  initiator-iqn: iqn.2006-11.1
                  keep-san: true
            """, "install", ClientPlatform.BiosI386);
        var hook = script.IndexOf("sanhook iscsi:192.0.2.1::::iqn.2026-11.lab:525400123456 || goto pxekit_failed\n", StringComparison.Ordinal);
        Assert.True(hook > 0, script);
        Assert.True(script.IndexOf("set initiator-iqn iqn.2006-11.1\n", StringComparison.Ordinal) < hook);
        Assert.True(script.IndexOf("set keep-san 1\n", StringComparison.Ordinal) < hook);
        Assert.True(script.IndexOf("kernel ", StringComparison.Ordinal) > hook);
    }

    [Fact]
    public void Sanboot_keeps_the_san_and_names_the_initiator_as_in_the_seeds_second_boot()
    {
        var script = RenderEntry("""
            boot:
              entries:
                win: {kind: sanboot, target: "iscsi:{{server}}::::iqn.2026-11.lab:{{mac-hyphen}}", keep-san: true, initiator-iqn: iqn.2006-11.1}
            """, "win", ClientPlatform.BiosI386);
        Assert.Contains("set initiator-iqn iqn.2006-11.1\nset keep-san 1\nsanboot --keep iscsi:192.0.2.1::::iqn.2026-11.lab:52-54-00-12-34-56 || goto pxekit_failed\n", script);
    }

    [Fact]
    public void Sanboot_of_an_iso_in_the_root_is_an_http_url_on_this_server()
    {
        var script = RenderEntry("boot: {entries: {iso: {kind: sanboot, target: images/debian 12.iso}}}", "iso", ClientPlatform.EfiX64);
        Assert.Contains("sanboot http://192.0.2.1:8080/images/debian%2012.iso || goto pxekit_failed\n", script);
    }

    [Fact]
    public void Chain_keeps_external_urls()
    {
        var script = RenderEntry("boot: {entries: {xyz: {kind: chain, url: 'https://boot.netboot.xyz'}}}", "xyz", ClientPlatform.EfiX64);
        Assert.Contains("chain --autofree https://boot.netboot.xyz || goto pxekit_failed\n", script);
    }

    [Fact]
    public void Chain_to_a_server_side_script_in_the_root_keeps_its_query()
    {
        var script = RenderEntry("boot: {entries: {p: {kind: chain, url: 'scripts/iscsi.ps1?{{mac-hyphen}}'}}}", "p", ClientPlatform.BiosI386);
        Assert.Contains("chain --autofree http://192.0.2.1:8080/scripts/iscsi.ps1?52-54-00-12-34-56 || goto pxekit_failed\n", script);
    }

    [Fact]
    public void Memdisk_boots_an_iso_with_iso_raw_on_bios_and_refuses_on_uefi()
    {
        const string yaml = "boot: {entries: {pe: {kind: memdisk, title: WinPE ISO, image: windows/winpe_amd64.iso, raw: true}}}";
        var bios = RenderEntry(yaml, "pe", ClientPlatform.BiosI386);
        Assert.Contains("kernel http://192.0.2.1:8080/memdisk iso raw || goto pxekit_failed\ninitrd http://192.0.2.1:8080/windows/winpe_amd64.iso || goto pxekit_failed\nboot", bios);
        var efi = RenderEntry(yaml, "pe", ClientPlatform.EfiX64);
        Assert.Contains("echo PxeKit: WinPE ISO: memdisk works on BIOS only", efi);
        Assert.DoesNotContain("kernel", efi);
    }

    [Fact]
    public void Local_boot_uses_drive_0x80_on_bios_and_returns_to_the_firmware_on_uefi()
    {
        const string yaml = "boot: {entries: {disk: {kind: local}}}";
        Assert.Contains("sanboot --no-describe --drive 0x80 || exit 1\n", RenderEntry(yaml, "disk", ClientPlatform.BiosI386));
        var efi = RenderEntry(yaml, "disk", ClientPlatform.EfiX64);
        Assert.Contains("exit 0\n", efi);
        Assert.DoesNotContain("sanboot", efi);
    }

    [Fact]
    public void Pxelinux_points_pxelinux_at_its_generated_menu_over_tftp()
    {
        var policy = new BootPolicy(ConfigFile.Parse("""
            boot:
              entries:
                legacy: {kind: pxelinux, menu: m}
                disk: {kind: local}
              menus: {m: {items: [disk]}}
            """).Boot!);
        var script = new IpxeScriptRenderer(policy).RenderEntry(policy.Definition.Entries["legacy"],
            Facts("52:54:00:12:34:56", ClientPlatform.BiosI386) with { TftpPort = 6969 }, null, "t");
        Assert.Contains("set 210:string tftp://192.0.2.1:6969/\nset 209:string pxelinux.cfg/pxekit-legacy\nchain tftp://192.0.2.1:6969/pxelinux.0 || goto pxekit_failed\n", script);
    }

    [Fact]
    public void A_script_entry_is_a_template_without_its_shebang()
    {
        var script = RenderEntry("""
            boot:
              entries:
                s:
                  kind: script
                  script: |
                    #!ipxe
                    echo hello {{mac}} from {{server}}
            """, "s", ClientPlatform.EfiX64);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(script, "#!ipxe"));
        Assert.Contains("echo hello 52:54:00:12:34:56 from 192.0.2.1\n", script);
    }

    [Fact]
    public void A_menu_lists_items_gaps_and_keys_and_defaults_to_the_clients_override()
    {
        var policy = Lab();
        var decision = policy.Decide(Facts("52:54:00:aa:00:09"))!;
        var script = new IpxeScriptRenderer(policy).Render(decision, Facts("52:54:00:aa:00:09"), ScriptUrl);
        Assert.Contains("""
            menu PxeKit lab
            item debian Debian 12 installer
            item winpe Windows PE
            item --gap -- Tools
            item --key s shell iPXE shell
            item disk Boot from the local disk
            choose --default winpe --timeout 8000 target || goto pxekit_exit
            goto ${target}
            """.ReplaceLineEndings("\n"), script);
        foreach (var label in new[] { ":debian\n", ":winpe\n", ":shell\n", ":disk\n", ":pxekit_failed\n", ":pxekit_exit\n" })
            Assert.Contains(label, script);
    }

    [Fact]
    public void A_password_menu_asks_the_server_for_every_item_but_the_default_and_never_contains_the_password()
    {
        var policy = new BootPolicy(ConfigFile.Parse("""
            boot:
              default: m
              entries: {disk: {kind: local}, wipe: {kind: shell}}
              menus: {m: {password: "hunter2", default: disk, timeout: 5s, items: [disk, wipe]}}
            """).Boot!);
        var script = new IpxeScriptRenderer(policy).Render(policy.Decide(Facts("52:54:00:12:34:56"))!, Facts("52:54:00:12:34:56"), ScriptUrl);
        Assert.DoesNotContain("hunter2", script);
        Assert.Contains(":wipe\nlogin || goto pxekit_menu\nchain --autofree " + ScriptUrl + "&menu=m&entry=wipe&password=${password:uristring} || goto pxekit_menu\n", script);
        Assert.Contains(":disk\nexit 0\n", script);
    }

    [Fact]
    public void A_submenu_item_chains_back_to_the_server()
    {
        var policy = new BootPolicy(ConfigFile.Parse("""
            boot:
              default: top
              entries: {disk: {kind: local}}
              menus: {top: {items: [disk, tools]}, tools: {title: Tools, items: [disk]}}
            """).Boot!);
        var script = new IpxeScriptRenderer(policy).Render(policy.Decide(Facts("52:54:00:12:34:56"))!, Facts("52:54:00:12:34:56"), ScriptUrl);
        Assert.Contains("item tools Tools >\n", script);
        Assert.Contains(":tools\nchain --autofree " + ScriptUrl + "&menu=tools&password=${password:uristring} || goto pxekit_failed\n", script);
    }

    [Fact]
    public void A_submenu_behind_a_password_asks_for_it_before_chaining()
    {
        var policy = new BootPolicy(ConfigFile.Parse("""
            boot:
              default: top
              entries: {disk: {kind: local}}
              menus: {top: {password: pw, default: disk, items: [disk, tools]}, tools: {items: [disk]}}
            """).Boot!);
        var script = new IpxeScriptRenderer(policy).Render(policy.Decide(Facts("52:54:00:12:34:56"))!, Facts("52:54:00:12:34:56"), ScriptUrl);
        Assert.Contains(":tools\nlogin || goto pxekit_menu\nchain --autofree " + ScriptUrl + "&menu=tools&password=${password:uristring} || goto pxekit_failed\n", script);
        Assert.DoesNotContain("pw", script.Replace("password", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x ${shell}")]
    [InlineData("a\nshell")]
    [InlineData("a || shell")]
    [InlineData("a && chain http://evil/")]
    [InlineData("#comment")]
    [InlineData("$(reboot)")]
    public void Client_text_in_a_template_reaches_the_script_inert(string hostname)
    {
        var facts = Facts("52:54:00:12:34:56") with { ClientHostname = hostname };
        var script = RenderEntry("boot: {entries: {d: {kind: linux, kernel: k, args: 'hostname={{hostname}} quiet'}}}", "d", ClientPlatform.EfiX64, facts);
        var kernelLine = script.Split('\n').Single(l => l.StartsWith("kernel ", StringComparison.Ordinal));
        var value = kernelLine.Split("hostname=")[1].Split(' ')[0];
        Assert.Matches("^[A-Za-z0-9._:/@+,=~%-]*$", value);
        Assert.EndsWith(" quiet || goto pxekit_failed", kernelLine);
        Assert.DoesNotContain("${shell}", script);
        Assert.Equal(hostname, Uri.UnescapeDataString(value));
    }

    [Fact]
    public void A_configured_name_is_used_as_written()
    {
        var facts = Facts("52:54:00:12:34:56") with { ConfiguredName = "ws01", ClientHostname = "evil" };
        Assert.Equal("ws01", BootTemplate.Expand("{{hostname}}", facts));
    }

    [Fact]
    public void Every_placeholder_has_a_value()
    {
        var facts = Facts("52:54:00:12:34:56", ip: "192.0.2.50") with { Uuid = "4c4c4544-0042-3510-8051-b4c04f4e5931", UserClass = "iPXE", VendorClass = "PXEClient", ClientHostname = "pc7" };
        foreach (var name in BootTemplate.Names.Keys)
            Assert.False(string.IsNullOrEmpty(BootTemplate.Value(name, facts)), name);
        Assert.Equal("52-54-00-12-34-56 192.0.2.1 00007 efi x86_64 01-52-54-00-12-34-56",
            BootTemplate.Expand("{{mac-hyphen}} {{opt54}} {{arch-code}} {{platform}} {{buildarch}} {{mac-pxelinux}}", facts));
    }

    private const string EveryKind = """
        boot:
          entries:
            linux: {kind: linux, kernel: {x86_64: k64, i386: k32, arm64: karm}, initrd: i}
            wimboot: {kind: wimboot, boot-wim: {x86_64: w64, i386: w32, arm64: warm}}
            sanboot: {kind: sanboot, target: "iscsi:192.0.2.1::::iqn.2026-11.lab:d"}
            chain: {kind: chain, url: "https://boot.netboot.xyz"}
            pxelinux: {kind: pxelinux, menu: m}
            memdisk: {kind: memdisk, image: fd.img}
            local: {kind: local}
            shell: {kind: shell}
            script: {kind: script, script: "echo hi"}
          menus: {m: {items: [local]}}
        """;

    public static TheoryData<string, string, string> KindsAndPlatforms()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var kind in new[] { "linux", "wimboot", "sanboot", "chain", "pxelinux", "memdisk", "local", "shell", "script" })
        {
            foreach (var (firmware, arch) in new[] { ("pcbios", "i386"), ("pcbios", "x86_64"), ("efi", "i386"), ("efi", "x86_64"), ("efi", "arm64") })
                data.Add(kind, firmware, arch);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndPlatforms))]
    public void Every_kind_renders_for_every_platform_as_a_script_that_boots_or_says_why_not(string kind, string firmware, string arch)
    {
        var platform = new ClientPlatform(firmware, arch);
        var script = RenderEntry(EveryKind, kind, platform);
        Assert.StartsWith("#!ipxe\n", script);
        Assert.Contains("\n:pxekit_failed\n", script);
        var commands = script.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith(':')).ToList();
        // Either it boots (a boot-like command) or it says on screen why this platform cannot.
        var boots = commands.Any(c => c.StartsWith("boot ", StringComparison.Ordinal) || c.StartsWith("sanboot", StringComparison.Ordinal)
            || c.StartsWith("chain", StringComparison.Ordinal) || c.StartsWith("exit 0", StringComparison.Ordinal) || c == "shell" || c == "echo hi");
        var explains = commands.Any(c => c.StartsWith("echo PxeKit: ", StringComparison.Ordinal) && !c.Contains("did not boot", StringComparison.Ordinal));
        Assert.True(boots || explains, script);
        var biosOnly = kind is "pxelinux" or "memdisk";
        Assert.Equal(biosOnly && firmware == "efi", explains);
        // Per-architecture files: the client's own, never another architecture's.
        if (kind == "linux")
            Assert.Contains(arch switch { "x86_64" => "/k64", "i386" => "/k32", _ => "/karm" }, script);
        if (kind == "wimboot")
            Assert.Contains(arch switch { "x86_64" => "/w64", "i386" => "/w32", _ => "/warm" }, script);
    }

    [Fact]
    public void Refusal_scripts_show_the_reason_and_stop()
    {
        var script = IpxeScriptRenderer.Refusal("no entry for 52:54:00:12:34:56\nshell");
        Assert.StartsWith("#!ipxe\necho PxeKit: no entry for 52:54:00:12:34:56 shell\n", script);
        Assert.EndsWith("exit 1\n", script);
        _ = IPAddress.Loopback;
    }
}
