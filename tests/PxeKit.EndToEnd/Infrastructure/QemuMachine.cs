using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>Which firmware network-boots the virtual machine.</summary>
public enum Firmware
{
    /// <summary>SeaBIOS; the NIC's option ROM is iPXE from Debian's ipxe-qemu, so the first DHCP client is already iPXE.</summary>
    Bios,

    /// <summary>OVMF with its own PXE client (VirtioNetDxe + PXE base code); the NIC's iPXE option ROM is disabled.</summary>
    Uefi,
}

public sealed record QemuMachineOptions
{
    public int MemoryMiB { get; init; } = 256;

    /// <summary>NIC MAC address; default: a fresh locally administered 52:54:00:e2:xx:xx per machine.</summary>
    public string? MacAddress { get; init; }

    /// <summary>Appended to QEMU's command line as they are.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Where the serial log and the UEFI variable store go; default: a new temp directory, deleted on dispose.</summary>
    public string? WorkDirectory { get; init; }
}

/// <summary>
/// A QEMU virtual machine (x86-64, TCG only: iPXE ROMs reboot under KVM here) that network-boots from a tap device on a
/// <see cref="NetworkNamespace"/>'s bridge. Serial console (COM1) goes to <see cref="SerialLogPath"/>; under BIOS the
/// machine runs with graphics=off so SeaBIOS and iPXE also print there (sgabios). The machine powers off -> QEMU exits
/// (-no-reboot also turns resets into exits). Dispose kills QEMU by PID and deletes its tap (and temp files).
/// </summary>
public sealed partial class QemuMachine : IAsyncDisposable
{
    public const string Qemu = "qemu-system-x86_64";
    public const string OvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    public const string OvmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    /// <summary>QEMU's default option ROM for virtio-net-pci (BIOS + EFI iPXE), found through QEMU's firmware path.</summary>
    public const string VirtioIpxeRom = "/usr/lib/ipxe/qemu/efi-virtio.rom";

    private const int TailBytes = 2048;
    private static int counter;

    private readonly NetworkNamespace network;
    private readonly NamespacedProcess process;
    private readonly string? ownedWorkDirectory;
    private bool disposed;

    private QemuMachine(
        NetworkNamespace network, Firmware firmware, string tapName, string macAddress, string serialLogPath,
        IReadOnlyList<string> commandLine, NamespacedProcess process, string? ownedWorkDirectory)
    {
        this.network = network;
        Firmware = firmware;
        TapName = tapName;
        MacAddress = macAddress;
        SerialLogPath = serialLogPath;
        CommandLine = commandLine;
        this.process = process;
        this.ownedWorkDirectory = ownedWorkDirectory;
        StartedAt = DateTimeOffset.UtcNow;
    }

    public Firmware Firmware { get; }

    public string TapName { get; }

    public string MacAddress { get; }

    public string SerialLogPath { get; }

    /// <summary>Program and arguments exactly as started (inside the namespace).</summary>
    public IReadOnlyList<string> CommandLine { get; }

    public DateTimeOffset StartedAt { get; }

    public int ProcessId => process.ProcessId;

    public bool HasExited => process.HasExited;

    /// <summary>QEMU's own stdout/stderr (warnings, errors), not the guest's serial console.</summary>
    public string QemuOutput => process.Output;

    /// <summary>Checks the firmware files, adds a tap to <paramref name="network"/>'s bridge and starts QEMU on it.</summary>
    public static async Task<QemuMachine> StartAsync(
        NetworkNamespace network, Firmware firmware, QemuMachineOptions? options = null)
    {
        options ??= new QemuMachineOptions();
        var qemu = ExternalTool.Require(Qemu, "qemu-system-x86");
        RequireFirmwareFiles(firmware);

        var ownedWorkDirectory = options.WorkDirectory is null
            ? Directory.CreateTempSubdirectory("pxekit-vm-").FullName
            : null;
        var workDirectory = options.WorkDirectory ?? ownedWorkDirectory!;
        Directory.CreateDirectory(workDirectory);
        var macAddress = options.MacAddress ?? NewMacAddress();
        var serialLogPath = Path.Combine(workDirectory, $"serial-{macAddress.Replace(':', '-')}.log");
        string? varsPath = null;
        if (firmware == Firmware.Uefi)
        {
            // OVMF writes its variable store (boot entries...): every machine gets a fresh copy.
            varsPath = Path.Combine(workDirectory, $"OVMF_VARS-{macAddress.Replace(':', '-')}.fd");
            File.Copy(OvmfVars, varsPath, overwrite: true);
        }

        string? tapName = null;
        try
        {
            tapName = await network.AddTapAsync();
            var arguments = BuildArguments(firmware, tapName, macAddress, serialLogPath, varsPath, options);
            var process = network.StartProcess(qemu, arguments, workDirectory);
            return new QemuMachine(
                network, firmware, tapName, macAddress, serialLogPath, [qemu, .. arguments], process, ownedWorkDirectory);
        }
        catch
        {
            if (tapName is not null)
                await network.RemoveTapAsync(tapName);
            if (ownedWorkDirectory is not null)
                Directory.Delete(ownedWorkDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>QEMU's arguments (without the program) for one machine; pure, so the command line can be tested and logged.</summary>
    public static IReadOnlyList<string> BuildArguments(
        Firmware firmware, string tapName, string macAddress, string serialLogPath, string? uefiVarsPath,
        QemuMachineOptions options)
    {
        var arguments = new List<string>
        {
            "-name", $"pxekit-e2e-{macAddress}",
            "-accel", "tcg",
        };
        string nic;
        switch (firmware)
        {
            case Firmware.Bios:
                // graphics=off makes QEMU load sgabios: SeaBIOS's and the iPXE ROM's screen text also goes to the serial
                // port. The virtio-net-pci NIC keeps its default romfile (efi-virtio.rom from ipxe-qemu).
                arguments.AddRange(["-machine", "pc,graphics=off"]);
                nic = $"virtio-net-pci,netdev=net0,mac={macAddress},bootindex=0";
                break;
            case Firmware.Uefi:
                if (uefiVarsPath is null)
                    throw new ArgumentNullException(nameof(uefiVarsPath), "UEFI needs a writable copy of OVMF_VARS");
                arguments.AddRange(
                [
                    "-machine", "q35",
                    "-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={OvmfCode}",
                    "-drive", $"if=pflash,format=raw,unit=1,file={uefiVarsPath}",
                ]);
                // romfile= (empty) removes the iPXE option ROM: OVMF's own VirtioNetDxe + PXE client must do the first
                // DHCP and the TFTP of the NBP. bootindex=0 puts "UEFI PXEv4" first.
                nic = $"virtio-net-pci,netdev=net0,mac={macAddress},romfile=,bootindex=0";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(firmware), firmware, null);
        }
        arguments.AddRange(
        [
            "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-display", "none",
            "-monitor", "none",
            "-no-reboot",
            "-serial", $"file:{serialLogPath}",
            "-netdev", $"tap,id=net0,ifname={tapName},script=no,downscript=no",
            "-device", nic,
        ]);
        arguments.AddRange(options.ExtraArguments);
        return arguments;
    }

    /// <summary>Serial console output so far (raw bytes as Latin-1 text; empty before QEMU creates the file).</summary>
    public string ReadSerial()
    {
        try
        {
            using var stream = new FileStream(SerialLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
        catch (DirectoryNotFoundException)
        {
            return "";
        }
    }

    /// <summary>
    /// Polls the serial log until it contains <paramref name="marker"/>. Fails early if QEMU exits first; on failure the
    /// message carries the last ~2 KB of serial output (escape sequences removed) and QEMU's own messages.
    /// Returns the time from start to the marker.
    /// </summary>
    public async Task<TimeSpan> WaitForSerialAsync(string marker, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var exited = process.HasExited; // read before the log, so output written just before exit is seen
            if (ReadSerial().Contains(marker, StringComparison.Ordinal))
                return DateTimeOffset.UtcNow - StartedAt;
            if (exited)
                throw new TimeoutException(Describe(
                    $"QEMU exited with code {process.ExitCode} before '{marker}' appeared on the serial console"));
            if (DateTimeOffset.UtcNow >= deadline)
                throw new TimeoutException(Describe(
                    $"'{marker}' did not appear on the serial console within {timeout.TotalSeconds:0} s"));
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    /// <summary>Waits (bounded) for QEMU to exit, e.g. after the guest powered off; returns QEMU's exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        process.WaitForExitAsync(timeout, cancellationToken);

    /// <summary>The last <paramref name="maxChars"/> characters of the serial log, readable (no ANSI escapes or CRs).</summary>
    public string SerialTail(int maxChars = TailBytes)
    {
        var text = Readable(ReadSerial());
        return text.Length <= maxChars ? text : text[^maxChars..];
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
            return;
        disposed = true;
        try
        {
            await process.DisposeAsync();
        }
        finally
        {
            await network.RemoveTapAsync(TapName);
            if (ownedWorkDirectory is not null && Directory.Exists(ownedWorkDirectory))
                Directory.Delete(ownedWorkDirectory, recursive: true);
        }
    }

    private string Describe(string problem)
    {
        var builder = new StringBuilder();
        builder.AppendLine(problem);
        builder.AppendLine($"firmware {Firmware}, MAC {MacAddress}, tap {TapName}, pid {ProcessId}, running {(DateTimeOffset.UtcNow - StartedAt).TotalSeconds:0} s");
        builder.AppendLine($"command line: {string.Join(' ', CommandLine)}");
        var qemuOutput = QemuOutput.Trim();
        if (qemuOutput.Length > 0)
            builder.AppendLine("QEMU said:").AppendLine(qemuOutput.Length <= TailBytes ? qemuOutput : qemuOutput[^TailBytes..]);
        builder.AppendLine($"last serial output ({SerialLogPath}):");
        builder.AppendLine(SerialTail());
        return builder.ToString();
    }

    /// <summary>Removes ANSI/VT100 escape sequences, CRs and other control characters except newline and tab.</summary>
    public static string Readable(string serial)
    {
        var withoutEscapes = EscapeSequence().Replace(serial, "");
        var builder = new StringBuilder(withoutEscapes.Length);
        foreach (var c in withoutEscapes)
        {
            if (c == '\n' || c == '\t' || (c >= ' ' && c != '\x7f'))
                builder.Append(c);
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?=]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_c])")]
    private static partial Regex EscapeSequence();

    private static void RequireFirmwareFiles(Firmware firmware)
    {
        static void Require(string path, string package)
        {
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} is missing; install Debian's '{package}' (`.ci/run` does this).");
        }
        if (firmware == Firmware.Bios)
        {
            Require("/usr/share/seabios/bios-256k.bin", "seabios");
            Require("/usr/share/qemu/sgabios.bin", "qemu-system-data");
            Require(VirtioIpxeRom, "ipxe-qemu");
        }
        else
        {
            Require(OvmfCode, "ovmf");
            Require(OvmfVars, "ovmf");
        }
    }

    private static string NewMacAddress()
    {
        var n = (Environment.ProcessId * 257 + Interlocked.Increment(ref counter)) & 0xffff;
        return string.Create(CultureInfo.InvariantCulture, $"52:54:00:e2:{n >> 8:x2}:{n & 0xff:x2}");
    }
}
