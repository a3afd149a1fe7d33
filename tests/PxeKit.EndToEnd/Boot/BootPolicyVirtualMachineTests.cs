using PxeKit.EndToEnd.Dhcp;
using PxeKit.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace PxeKit.EndToEnd.Boot;

/// <summary>
/// Real iPXE (SeaBIOS's iPXE ROM, and OVMF loading Debian's ipxe.efi) boots what the boot policy in pxekit.yaml
/// decides: a menu whose default runs after its timeout, and a per-MAC override that boots another entry. Each
/// entry loads Debian's kernel with its own token; the test passes only on that token on the serial console.
/// </summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class BootPolicyVirtualMachineTests(ITestOutputHelper log)
{
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(240);

    /// <summary>A lab with a menu (two Linux entries, a local disk, a gap), and one machine overridden by MAC.</summary>
    internal static string LabYaml(string menuToken, string otherToken, string overrideMac, string overrideEntry = "other") => $$"""
        boot:
          default: lab
          entries:
            installer:
              kind: linux
              title: Debian installer (menu default)
              kernel: vmlinuz
              initrd: initrd.gz
              args: console=ttyS0 quiet panic=-1 pxekit.token={{menuToken}}
            other:
              kind: linux
              title: Rescue kernel
              # Only a BIOS client that reported its 64-bit CPU (iPXE's cpuid) gets the kernel that exists.
              kernel: {x86_64: vmlinuz, i386: no-such-i386-kernel}
              initrd: initrd.gz
              args: console=ttyS0 quiet panic=-1 pxekit.token={{otherToken}}-{{"{{"}}mac-hyphen{{"}}"}}
            disk: {kind: local, title: Local disk}
          menus:
            lab:
              title: PxeKit test lab
              timeout: 2s
              default: installer
              items: [installer, other, {separator: Other}, disk]
          clients:
            - {mac: "{{overrideMac}}", name: override-vm, boot: {{overrideEntry}}}
        """;

    [Theory]
    [InlineData(Firmware.Bios)]
    [InlineData(Firmware.Uefi)]
    public async Task The_menu_default_boots_after_its_timeout(Firmware firmware)
    {
        var assets = await BootAssets.EnsureAsync();
        var menuToken = Token();
        await using var lab = await DhcpLab.StartAsync(l => PrepareAsync(l, assets, LabYaml(menuToken, Token(), "52:54:00:e2:ff:ff")),
            "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using var vm = await QemuMachine.StartAsync(lab.Namespace, firmware);
        await WaitAsync(vm, lab, $"{BootAssets.MarkerPrefix} {menuToken}");

        var output = lab.ServerOutput;
        log.WriteLine(output);
        var mac = vm.MacAddress.ToLowerInvariant();
        var platform = firmware == Firmware.Bios ? "bios" : "efi-x64";
        // iPXE first told its platform (the two-line script), then got the menu of the default.
        Assert.Contains($"Boot script for {mac} at 192.0.2.", output);
        Assert.Contains($"({platform}): menu 'lab' (default)", output);
        Assert.Contains("GET vmlinuz: 200", output);
    }

    [Fact]
    public async Task A_per_mac_override_boots_another_entry_without_the_menu()
    {
        var assets = await BootAssets.EnsureAsync();
        const string mac = "52:54:00:e2:aa:01";
        var otherToken = Token();
        await using var lab = await DhcpLab.StartAsync(l => PrepareAsync(l, assets, LabYaml(Token(), otherToken, mac)),
            "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using var vm = await QemuMachine.StartAsync(lab.Namespace, Firmware.Bios, new QemuMachineOptions { MacAddress = mac });
        // The entry's command line carries {{mac-hyphen}}: the marker proves the template was filled for this client.
        await WaitAsync(vm, lab, $"{BootAssets.MarkerPrefix} {otherToken}-52-54-00-e2-aa-01");

        var output = lab.ServerOutput;
        log.WriteLine(output);
        Assert.Contains($"Boot script for {mac} at 192.0.2.", output);
        Assert.Contains("(bios): entry 'other' (client override-vm (52:54:00:e2:aa:01))", output);
        // undionly.kpxe is an i386 build; the x86_64 kernel was chosen because iPXE's cpuid found long mode.
        Assert.Contains("GET vmlinuz: 200", output);
        Assert.DoesNotContain("no-such-i386-kernel", output);
        Assert.DoesNotContain("menu 'lab'", output);
    }

    [Fact]
    public async Task A_pxelinux_entry_boots_debians_pxelinux_with_the_menu_pxekit_generates()
    {
        ExternalTool.RequireFile("/usr/lib/PXELINUX/pxelinux.0", "pxelinux");
        ExternalTool.RequireFile("/usr/lib/syslinux/modules/bios/menu.c32", "syslinux-common");
        var assets = await BootAssets.EnsureAsync();
        const string mac = "52:54:00:e2:aa:02";
        var token = Token();
        var yaml = $$"""
            boot:
              entries:
                legacy: {kind: pxelinux, title: Classic pxelinux menu, menu: classic}
                # Another kernel for 32-bit PCs: pxelinux cannot tell the server its CPU, so ifcpu64.c32 picks on the machine.
                rescue: {kind: linux, title: Rescue, kernel: {x86_64: vmlinuz, i386: no-such-i386-kernel}, initrd: initrd.gz, args: "console=ttyS0 quiet panic=-1 pxekit.token={{token}}"}
                disk: {kind: local, title: Local disk}
              menus:
                classic: {title: Classic, timeout: 1s, default: rescue, items: [disk, rescue]}
              clients:
                - {mac: "{{mac}}", boot: legacy}
            """;
        await using var lab = await DhcpLab.StartAsync(l => PrepareAsync(l, assets, yaml), "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using var vm = await QemuMachine.StartAsync(lab.Namespace, Firmware.Bios, new QemuMachineOptions { MacAddress = mac });
        await WaitAsync(vm, lab, $"{BootAssets.MarkerPrefix} {token}");

        var output = lab.ServerOutput;
        log.WriteLine(output);
        Assert.Contains("(bios): entry 'legacy'", output);
        // pxelinux itself fetched its modules and the generated menu over TFTP, then the kernel.
        Assert.Contains("TFTP sent pxelinux.0", output);
        Assert.Contains("TFTP sent ldlinux.c32", output);
        Assert.Contains("TFTP sent pxelinux.cfg/pxekit-legacy", output);
        Assert.Contains("TFTP sent ifcpu64.c32", output);
        Assert.Contains("TFTP sent vmlinuz", output);
        Assert.DoesNotContain("no-such-i386-kernel", output);
    }

    [Fact]
    public async Task A_server_side_script_receives_the_mac_and_its_output_boots_the_client_and_the_boot_is_in_its_trace()
    {
        var assets = await BootAssets.EnsureAsync();
        const string mac = "52:54:00:e2:aa:03";
        var token = Token();
        // The seeds' provisioning script, as a shell script: it gets the MAC as its first argument
        // (Tiny PXE Server's ?@mac) and prints the iPXE script that boots this machine.
        var yaml = $$"""
            scripts:
              - {extension: .sh, program: /bin/sh, args: ["{file}"]}
            boot:
              entries:
                provision: {kind: chain, title: Provisioned per client, url: "provision.sh?{{"{{"}}mac-hyphen{{"}}"}}"}
              clients:
                - {mac: "{{mac}}", boot: provision}
            """;
        await using var lab = await DhcpLab.StartAsync(async l =>
        {
            await PrepareAsync(l, assets, yaml);
            await File.WriteAllTextAsync(Path.Combine(l.Root, "provision.sh"), $$"""
                echo '#!ipxe'
                echo "kernel http://$PXEKIT_SERVER:8080/vmlinuz initrd=initrd.gz console=ttyS0 quiet panic=-1 pxekit.token={{token}}-$1"
                echo "initrd http://$PXEKIT_SERVER:8080/initrd.gz"
                echo boot

                """);
        }, "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using var vm = await QemuMachine.StartAsync(lab.Namespace, Firmware.Bios, new QemuMachineOptions { MacAddress = mac });
        await WaitAsync(vm, lab, $"{BootAssets.MarkerPrefix} {token}-52-54-00-e2-aa-03");

        // The whole boot is on the client's trace: DHCP, the policy's script, the server script, the kernel.
        var trace = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "trace", mac, "--data-dir", lab.DataDirectory], TimeSpan.FromSeconds(60));
        log.WriteLine(trace.StandardOutput);
        Assert.True(trace.ExitCode == 0, trace.Describe());
        foreach (var step in new[] { "DHCP DISCOVER", "DHCP ACK", "script", "server script", "/provision.sh", "/vmlinuz", "/initrd.gz" })
            Assert.Contains(step, trace.StandardOutput);
    }

    [Fact]
    public async Task A_memdisk_entry_boots_a_floppy_image_through_syslinuxs_memdisk()
    {
        ExternalTool.RequireFile(PxeKit.Server.Hosting.BootRootSetup.MemdiskSource, "syslinux-common");
        const string mac = "52:54:00:e2:aa:04";
        var token = Token();
        var yaml = $$"""
            boot:
              entries:
                dos: {kind: memdisk, title: Floppy image, image: images/fd.img}
              clients:
                - {mac: "{{mac}}", boot: dos}
            """;
        await using var lab = await DhcpLab.StartAsync(async l =>
        {
            await File.WriteAllTextAsync(Path.Combine(l.Directory, "pxekit.yaml"), yaml);
            Directory.CreateDirectory(Path.Combine(l.Root, "images"));
            await File.WriteAllBytesAsync(Path.Combine(l.Root, "images", "fd.img"), MarkerFloppy($"{BootAssets.MarkerPrefix} {token}"));
        }, "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using var vm = await QemuMachine.StartAsync(lab.Namespace, Firmware.Bios, new QemuMachineOptions { MacAddress = mac });
        await WaitAsync(vm, lab, $"{BootAssets.MarkerPrefix} {token}");

        var output = lab.ServerOutput;
        log.WriteLine(output);
        // serve copied Debian's memdisk into the root, iPXE loaded it and the image, and the image's boot sector ran.
        Assert.Contains("Copied memdisk from /usr/lib/syslinux", output);
        Assert.Contains("GET memdisk: 200", output);
        Assert.Contains("GET images/fd.img: 200", output);
    }

    /// <summary>
    /// A 1.44 MB floppy image (memdisk recognises the size) whose boot sector writes <paramref name="marker"/> to
    /// COM1 and halts: proof that memdisk emulated the disk and the BIOS booted from it. Hand-assembled 16-bit code:
    /// <code>
    ///   cli; cld; xor ax,ax; mov ds,ax; mov si,0x7C17; mov dx,0x3F8
    /// next: lodsb; test al,al; jz done; out dx,al; jmp next
    /// done: hlt; jmp done
    /// msg (at 0x17): marker, CR, LF, 0
    /// </code>
    /// </summary>
    internal static byte[] MarkerFloppy(string marker)
    {
        var image = new byte[1_474_560];
        byte[] code =
        [
            0xFA, 0xFC, 0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x17, 0x7C, 0xBA, 0xF8, 0x03,
            0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8,
            0xF4, 0xEB, 0xFD,
        ];
        code.CopyTo(image, 0);
        var text = System.Text.Encoding.ASCII.GetBytes(marker + "\r\n");
        text.CopyTo(image, code.Length);
        image[510] = 0x55;
        image[511] = 0xAA;
        return image;
    }

    internal static async Task PrepareAsync(DhcpLab lab, string assets, string bootYaml)
    {
        foreach (var name in new[] { "vmlinuz", "initrd.gz" })
            File.Copy(Path.Combine(assets, name), Path.Combine(lab.Root, name));
        await File.WriteAllTextAsync(Path.Combine(lab.Directory, "pxekit.yaml"), bootYaml);
    }

    internal static async Task WaitAsync(QemuMachine vm, DhcpLab lab, string marker)
    {
        try
        {
            await vm.WaitForSerialAsync(marker, BootLimit);
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}\n--- pxekit ---\n{lab.ServerOutput}");
        }
    }

    private static string Token() => Guid.NewGuid().ToString("N")[..12];
}
