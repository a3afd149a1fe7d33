using PxeKit.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace PxeKit.EndToEnd.Dhcp;

/// <summary>
/// Virtual machines network-boot through pxekit's DHCP: SeaBIOS with the iPXE option ROM and OVMF's own PXE, with
/// pxekit as the DHCP server and as proxyDHCP beside dnsmasq. The iPXE script that pxekit named loads Debian's
/// kernel and a busybox initrd over HTTP; the test passes only when the initrd's marker is on the serial console.
/// </summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class DhcpVirtualMachineTests(ITestOutputHelper log)
{
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(240);

    [Theory]
    [InlineData(Firmware.Bios, "full")]
    [InlineData(Firmware.Uefi, "full")]
    [InlineData(Firmware.Bios, "proxy")]
    [InlineData(Firmware.Uefi, "proxy")]
    [InlineData(Firmware.Bios, "proxy-same-host")]
    [InlineData(Firmware.Uefi, "proxy-same-host")]
    [InlineData(Firmware.Bios, "proxy-4011")]
    public async Task Machine_boots_a_kernel_through_the_ipxe_script_pxekit_names(Firmware firmware, string mode)
    {
        var assets = await BootAssets.EnsureAsync();
        NamespacedProcess? site = null;
        await using var lab = mode switch
        {
            "full" => await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150"),
            // dnsmasq hands out addresses on pxekit's own host and interface; with bind-interfaces it shares port 67.
            "proxy-same-host" => await DhcpLab.StartAsync(async l => site = await l.StartSameHostDnsmasqAsync("--bind-interfaces"), "--dhcp", "proxy"),
            // dnsmasq holds 67 exclusively, so pxekit serves 4011 alone; dnsmasq's option 60 "PXEClient" sends the
            // firmware there (PXE 2.1 §2.2.5), as a Windows DHCP server beside WDS does.
            "proxy-4011" => await DhcpLab.StartAsync(async l => site = await l.StartSameHostDnsmasqAsync(
                "--dhcp-vendorclass=set:pxe,PXEClient", "--dhcp-option-force=tag:pxe,60,PXEClient"), "--dhcp", "proxy"),
            _ => await DhcpLab.StartAsync("--dhcp", "proxy"),
        };
        if (mode == "proxy")
        {
            var peer = await lab.AddClientAsync("192.0.2.3/24");
            site = peer.StartProcess(ExternalTool.Require("dnsmasq", "dnsmasq"),
            [
                "--keep-in-foreground", "--log-dhcp", "--log-facility=-", "--port=0", "--conf-file=/dev/null", "--user=root",
                "--interface=" + NetworkNamespace.PeerInterface, "--bind-interfaces", "--dhcp-range=192.0.2.160,192.0.2.199,1h",
                "--dhcp-leasefile=" + Path.Combine(lab.Directory, "dnsmasq.leases"), "--pid-file=" + Path.Combine(lab.Directory, "dnsmasq.pid"),
            ]);
        }
        var token = Guid.NewGuid().ToString("N")[..12];
        foreach (var name in new[] { "vmlinuz", "initrd.gz" })
            File.Copy(Path.Combine(assets, name), Path.Combine(lab.Root, name));
        await File.WriteAllTextAsync(Path.Combine(lab.Root, "boot.ipxe"), BootAssets.Script("192.0.2.1", token));

        await using var vm = await QemuMachine.StartAsync(lab.Namespace, firmware);
        try
        {
            await vm.WaitForSerialAsync($"{BootAssets.MarkerPrefix} {token}", BootLimit);
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}\n--- pxekit ---\n{lab.ServerOutput}\n--- dnsmasq ---\n{site?.Output}");
        }

        var output = lab.ServerOutput;
        log.WriteLine($"{firmware} {mode}: marker after {vm.StartedAt:HH:mm:ss}\n{output}\n--- dnsmasq ---\n{site?.Output}");
        var mac = vm.MacAddress.ToLowerInvariant();
        // iPXE got its script URL with its MAC, never the iPXE binary a second time (no chain loop).
        Assert.Contains($"http://192.0.2.1:8080/boot.ipxe?mac={mac}", output);
        Assert.Contains("GET vmlinuz: 200", output);
        Assert.Contains("GET initrd.gz: 200", output);
        if (firmware == Firmware.Uefi)
        {
            // OVMF's PXE: DHCP -> TFTP ipxe.efi -> iPXE DHCP again -> HTTP script.
            Assert.Contains("TFTP sent ipxe.efi", output);
        }
        if (mode == "proxy-same-host")
            Assert.Contains("proxy mode shares it for the broadcasts PXE clients send", output);
        if (mode == "proxy-4011")
        {
            Assert.Contains("proxy mode serves udp 4011 alone", output);
            Assert.Contains("DHCP proxy ACK to", output); // the answer came from the boot-server port
            Assert.DoesNotContain("DHCP proxy OFFER", output);
        }
        if (mode == "full")
            Assert.Contains($"DHCP ACK 192.0.2.1", output);
        else
        {
            Assert.Contains($"DHCP proxy", output);
            Assert.DoesNotContain("DHCP ACK 192.0.2.1", output); // proxy mode hands out no addresses
            Assert.Matches(@"DHCPACK\((eth0|br0)\) 192\.0\.2\.1", site!.Output); // dnsmasq did
        }
        if (site is not null)
            await site.DisposeAsync();
    }
}
