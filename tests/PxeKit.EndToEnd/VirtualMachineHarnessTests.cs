using System.Net;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd;

/// <summary>
/// The VM harness itself: QEMU command lines, namespace life cycle and clean-up, and what a failed wait reports.
/// (Booting through a server is the subject of the boot tests, not of these.)
/// </summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class VirtualMachineHarnessTests
{
    private static readonly QemuMachineOptions Defaults = new();

    [Fact]
    public void Bios_command_line_uses_tcg_the_nics_ipxe_rom_and_serial_to_file()
    {
        var args = QemuMachine.BuildArguments(Firmware.Bios, "tap3", "52:54:00:e2:00:01", "/tmp/s.log", null, Defaults);
        var line = string.Join(' ', args);

        Assert.Contains("-accel tcg", line);
        Assert.DoesNotContain("kvm", line);
        Assert.Contains("-machine pc,graphics=off", line);
        Assert.Contains("-serial file:/tmp/s.log", line);
        Assert.Contains("-no-reboot", line);
        Assert.Contains("-m 256", line);
        Assert.Contains("-netdev tap,id=net0,ifname=tap3,script=no,downscript=no", line);
        Assert.Contains("-device virtio-net-pci,netdev=net0,mac=52:54:00:e2:00:01,bootindex=0", line);
        Assert.DoesNotContain("romfile", line);
        Assert.DoesNotContain("pflash", line);
    }

    [Fact]
    public void Uefi_command_line_uses_ovmf_with_a_private_vars_copy_and_no_option_rom()
    {
        var args = QemuMachine.BuildArguments(Firmware.Uefi, "tap0", "52:54:00:e2:00:02", "/tmp/s.log", "/tmp/vars.fd", Defaults);
        var line = string.Join(' ', args);

        Assert.Contains("-accel tcg", line);
        Assert.Contains($"-drive if=pflash,format=raw,unit=0,readonly=on,file={QemuMachine.OvmfCode}", line);
        Assert.Contains("-drive if=pflash,format=raw,unit=1,file=/tmp/vars.fd", line);
        Assert.DoesNotContain(QemuMachine.OvmfVars, line);
        Assert.Contains("-device virtio-net-pci,netdev=net0,mac=52:54:00:e2:00:02,romfile=,bootindex=0", line);
    }

    [Fact]
    public void Uefi_needs_a_vars_file_and_extra_arguments_come_last()
    {
        Assert.Throws<ArgumentNullException>(
            () => QemuMachine.BuildArguments(Firmware.Uefi, "tap0", "52:54:00:e2:00:02", "/tmp/s.log", null, Defaults));

        var args = QemuMachine.BuildArguments(
            Firmware.Bios, "tap0", "52:54:00:e2:00:02", "/tmp/s.log", null,
            Defaults with { MemoryMiB = 512, ExtraArguments = ["-smp", "1"] });
        Assert.Equal(["-smp", "1"], args.TakeLast(2));
        Assert.Contains("-m 512", string.Join(' ', args));
    }

    [Fact]
    public void Readable_serial_text_has_no_escape_sequences_or_carriage_returns()
    {
        var raw = "\u001b[2J\u001b[01;01H\u001b[=3h\u001b[?7lSeaBIOS\r\n\u001b[1miPXE\u001b[0m ok\r\n\u001bc";
        Assert.Equal("SeaBIOS\niPXE ok\n", QemuMachine.Readable(raw));
    }

    [Fact]
    public async Task Namespace_has_a_bridge_taps_a_peer_host_and_processes_and_leaves_nothing_behind()
    {
        string name, peerName;
        NamespacedProcess sleeper;
        await using (var ns = await NetworkNamespace.CreateAsync())
        {
            name = ns.Name;
            Assert.Equal(IPAddress.Parse("192.0.2.1"), ns.Address);
            var tap = await ns.AddTapAsync();
            var second = await ns.AddTapAsync();
            Assert.NotEqual(tap, second);
            await ns.AddAddressAsync("192.0.2.3/24");
            var peer = await ns.AttachPeerAsync("192.0.2.2/24");
            peerName = peer.Name;

            Assert.Contains(name, await NetworkNamespace.ListNamespacesAsync());
            Assert.Contains(peerName, await NetworkNamespace.ListNamespacesAsync());
            var interfaces = await ns.ListInterfacesAsync();
            Assert.Contains(NetworkNamespace.BridgeInterface, interfaces);
            Assert.Contains(tap, interfaces);
            Assert.Contains(second, interfaces);
            Assert.Contains(NetworkNamespace.PeerInterface, await peer.ListInterfacesAsync());

            // Programs run inside: they see the namespace's addresses, not the host's.
            var addresses = await ns.RunAsync("ip", ["-o", "-4", "addr", "show"], TimeSpan.FromSeconds(10));
            Assert.Contains("192.0.2.1/24", addresses.StandardOutput);
            Assert.Contains("192.0.2.3/24", addresses.StandardOutput);
            // The peer host reaches the bridge over its veth (busybox ping: no extra package).
            var ping = await peer.RunAsync("busybox", ["ping", "-c", "1", "-W", "5", "192.0.2.1"], TimeSpan.FromSeconds(15));
            Assert.True(ping.ExitCode == 0, ping.Describe());

            await ns.RemoveTapAsync(second);
            Assert.DoesNotContain(second, await ns.ListInterfacesAsync());

            sleeper = ns.StartProcess("sleep", ["600"]);
            Assert.False(sleeper.HasExited);
        }

        Assert.True(sleeper.HasExited);
        Assert.False(Directory.Exists($"/proc/{sleeper.ProcessId}") && File.ReadAllText($"/proc/{sleeper.ProcessId}/cmdline").Contains("600"));
        var remaining = await NetworkNamespace.ListNamespacesAsync();
        Assert.DoesNotContain(name, remaining);
        Assert.DoesNotContain(peerName, remaining);
    }

    [Fact]
    public async Task A_machine_that_dies_at_once_fails_the_wait_immediately_with_qemus_complaint()
    {
        await using var ns = await NetworkNamespace.CreateAsync();
        await using var vm = await QemuMachine.StartAsync(
            ns, Firmware.Bios, new QemuMachineOptions { ExtraArguments = ["-no-such-option"] });

        var started = DateTimeOffset.UtcNow;
        var error = await Assert.ThrowsAsync<TimeoutException>(() => vm.WaitForSerialAsync("never", TimeSpan.FromSeconds(60)));

        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(30));
        Assert.Contains("QEMU exited with code", error.Message);
        Assert.Contains("no-such-option", error.Message);
        Assert.Contains("-accel tcg", error.Message);
    }

    [Fact]
    public async Task Waiting_in_vain_reports_the_serial_tail_and_dispose_removes_the_machine_and_its_tap()
    {
        await using var ns = await NetworkNamespace.CreateAsync();
        var interfacesBefore = await ns.ListInterfacesAsync();
        var vm = await QemuMachine.StartAsync(ns, Firmware.Bios);
        try
        {
            Assert.Contains(vm.TapName, await ns.ListInterfacesAsync());

            // No DHCP server on this bridge: the firmware starts, prints, and never boots anything.
            var error = await Assert.ThrowsAsync<TimeoutException>(
                () => vm.WaitForSerialAsync("PXEKIT-BOOT-OK", TimeSpan.FromSeconds(20)));

            Assert.Contains("did not appear on the serial console within 20 s", error.Message);
            Assert.Contains("last serial output", error.Message);
            Assert.Contains("SeaBIOS", error.Message); // sgabios puts the firmware's screen on the serial port
            Assert.DoesNotContain("\u001b[", error.Message);
            Assert.False(vm.HasExited);
        }
        finally
        {
            await vm.DisposeAsync();
        }

        Assert.True(vm.HasExited);
        Assert.Equal(interfacesBefore, await ns.ListInterfacesAsync());
        Assert.False(File.Exists(vm.SerialLogPath));
    }
}
