using System.Net;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Boot;

/// <summary>The lab the issue describes: three groups, a menu, a WinPE entry, a Linux entry, a per-MAC override.</summary>
internal static class BootPolicyFixture
{
    public const string LabYaml = """
        boot:
          default: main
          entries:
            debian:
              kind: linux
              title: Debian 12 installer
              kernel: {x86_64: debian/amd64/linux, arm64: debian/arm64/linux}
              initrd: [{x86_64: debian/amd64/initrd.gz, arm64: debian/arm64/initrd.gz}]
              args: "console=ttyS0 hostname={{hostname}} priority=critical"
            winpe:
              kind: wimboot
              title: Windows PE
              bootmgr: {bios: bootmgr.exe, efi: bootmgfw.efi}
              bcd: {bios: boot/bcd, efi: efi/microsoft/boot/bcd}
              boot-sdi: boot/boot.sdi
              boot-wim: {x86_64: sources/x64/boot.wim, i386: sources/x86/boot.wim}
            disk: {kind: local, title: Boot from the local disk}
            shell: {kind: shell, title: iPXE shell}
          menus:
            main:
              title: PxeKit lab
              timeout: 8s
              default: disk
              items: [debian, winpe, {separator: Tools}, {boot: shell, key: s}, disk]
          groups:
            - name: uefi-lab
              match: {arch: efi-x64, mac: "52:54:00:aa:*"}
              boot: main
              menu-default: winpe
            - name: servers
              match: {ip: 192.0.2.128/25}
              boot: debian
            - name: thin-clients
              match: {vendor-class: "PXEClient:Arch:00000*"}
              boot: winpe
          clients:
            - {mac: "52:54:00:aa:00:01", name: ws01, boot: debian}
            - {mac: "52-54-00-BB-00-02", name: kiosk2}
        """;

    public static BootPolicy Lab() => new(ConfigFile.Parse(LabYaml).Boot!);

    public static ClientFacts Facts(string mac, ClientPlatform? platform = null, string? ip = null, string? vendorClass = null) => new()
    {
        Mac = mac,
        Platform = platform ?? ClientPlatform.EfiX64,
        Address = ip is null ? null : IPAddress.Parse(ip),
        VendorClass = vendorClass,
        ServerAddress = IPAddress.Parse("192.0.2.1"),
        HttpPort = 8080,
    };
}
