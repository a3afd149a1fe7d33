using PxeKit.EndToEnd.Dhcp;
using PxeKit.EndToEnd.Infrastructure;
using Xunit.Abstractions;

namespace PxeKit.EndToEnd.Boot;

/// <summary>
/// A real mistake, made on purpose: the UEFI boot file is set to the BIOS iPXE binary. OVMF's PXE client fetches it
/// and cannot run it; then `pxekit doctor trace MAC` reads what serve recorded and names the cause.
/// </summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class DoctorTraceVirtualMachineTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Doctor_trace_names_a_bios_binary_handed_to_a_real_uefi_machine()
    {
        const string mac = "52:54:00:e2:aa:05";
        const string yaml = """
            dhcp:
              boot-files:
                efi-x64: undionly.kpxe
            """;
        await using var lab = await DhcpLab.StartAsync(
            l => File.WriteAllTextAsync(Path.Combine(l.Directory, "pxekit.yaml"), yaml),
            "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150");
        await using (var vm = await QemuMachine.StartAsync(lab.Namespace, Firmware.Uefi, new QemuMachineOptions { MacAddress = mac }))
        {
            Assert.True(await lab.WaitForServerAsync("TFTP sent undionly.kpxe", TimeSpan.FromSeconds(180)), lab.ServerOutput);
        }
        // The trace is written by a background writer; give it a moment, then ask as a sysadmin would.
        ExternalTool.Result? doctor = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            doctor = await ExternalTool.RunAsync("dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "doctor", "trace", mac, "-c", Path.Combine(lab.Directory, "pxekit.yaml"),
                "--root", lab.Root, "--data-dir", lab.DataDirectory,
            ], TimeSpan.FromSeconds(60));
            if (doctor.StandardOutput.Contains("client got undionly.kpxe but is UEFI x64", StringComparison.Ordinal))
                break;
            await Task.Delay(500);
        }
        log.WriteLine(doctor!.Describe());
        Assert.Equal(1, doctor.ExitCode);
        Assert.Contains("client got undionly.kpxe but is UEFI x64", doctor.StandardOutput);
    }
}
