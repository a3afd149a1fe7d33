using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Boot;

/// <summary>
/// Real firmware boots from pxekit's TFTP and HTTP servers, with Debian's dnsmasq as the site's DHCP server
/// (address and boot file only, its TFTP off). OVMF's own PXE client fetches ipxe.efi over pxekit's TFTP
/// (after its tsize probe); iPXE then fetches the script, kernel and initrd over pxekit's HTTP. The test passes
/// only when the initrd's marker appears on the serial console.
/// </summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class PxeBootTests
{
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(240);

    [Theory]
    [InlineData(Firmware.Uefi)]
    [InlineData(Firmware.Bios)]
    public async Task Firmware_boots_a_kernel_served_by_pxekit(Firmware firmware)
    {
        var assets = await BootAssets.EnsureAsync();
        var token = $"{firmware}-{Guid.NewGuid():N}"[..20];
        await using var network = await NetworkNamespace.CreateAsync();
        var server = network.Address.ToString();

        await using var pxekit = await PxeKitProcess.StartAsync(new PxeKitStart(
            "ipxe:\n  write-default-script: false\n",
            root =>
            {
                foreach (var name in new[] { "vmlinuz", "initrd.gz" })
                    File.Copy(Path.Combine(assets, name), Path.Combine(root, name));
                File.WriteAllText(Path.Combine(root, "boot.ipxe"), BootAssets.Script(server, token));
            }) { Namespace = network });

        var work = Directory.CreateTempSubdirectory("pxekit-dnsmasq-");
        try
        {
            var conf = Path.Combine(work.FullName, "dnsmasq.conf");
            await File.WriteAllTextAsync(conf, $"""
                port=0
                interface={NetworkNamespace.BridgeInterface}
                bind-interfaces
                dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h
                dhcp-leasefile={work.FullName}/leases
                dhcp-userclass=set:ipxe,iPXE
                dhcp-match=set:efi64,option:client-arch,7
                dhcp-match=set:efi64,option:client-arch,9
                dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,{server}
                dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,{server}
                dhcp-boot=tag:ipxe,http://{server}:8080/boot.ipxe
                """);
            await using var dhcp = network.StartProcess(ExternalTool.Require("dnsmasq", "dnsmasq"),
                ["--keep-in-foreground", $"--conf-file={conf}", "--log-facility=-"]);
            await using var machine = await QemuMachine.StartAsync(network, firmware);

            var elapsed = await machine.WaitForSerialAsync($"{BootAssets.MarkerPrefix} {token}", BootLimit);

            Assert.True(elapsed < BootLimit);
            if (firmware == Firmware.Uefi)
                Assert.True(await pxekit.WaitForOutputAsync("TFTP sent ipxe.efi to 192.0.2.", TimeSpan.FromSeconds(5)), pxekit.Output);
            Assert.True(await pxekit.WaitForOutputAsync("GET boot.ipxe: 200", TimeSpan.FromSeconds(5)), pxekit.Output);
            Assert.True(await pxekit.WaitForOutputAsync("GET vmlinuz: 200", TimeSpan.FromSeconds(5)), pxekit.Output);
            Assert.True(await pxekit.WaitForOutputAsync("GET initrd.gz: 200", TimeSpan.FromSeconds(5)), pxekit.Output);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
