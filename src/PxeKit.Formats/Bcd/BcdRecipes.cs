using PxeKit.Formats.Registry;

namespace PxeKit.Formats.Bcd;

/// <summary>Firmware the store is for; decides winload.exe (BIOS) or winload.efi (UEFI), spec §5.6.</summary>
public enum BcdFirmware
{
    Bios,
    Uefi,
}

/// <summary>Which device a disk store boots Windows from (spec §2.6 B and C).</summary>
public enum BcdWindowsDevice
{
    /// <summary>The partition bootmgr was loaded from: single-partition disks, iSCSI LUNs.</summary>
    Boot,

    /// <summary>
    /// The first partition on which the path in the path/systemroot element exists (<c>locate=custom:12000002</c>,
    /// what bcdedit and sysprep write): survives disk signature and GUID changes.
    /// </summary>
    Locate,

    /// <summary>The same search with the paths stored in the devices (<c>locate=\Windows</c>; seed 000's older form).</summary>
    LocatePath,
}

/// <summary>Inputs of <see cref="BcdRecipes.WinPe"/>. Defaults: the WinPE media layout and the spec's TFTP tuning.</summary>
public sealed class WinPeBcdOptions
{
    public string WimPath { get; init; } = @"\sources\boot.wim";

    public string SdiPath { get; init; } = @"\boot\boot.sdi";

    public BcdFirmware Firmware { get; init; } = BcdFirmware.Bios;

    /// <summary>Id of the boot entry; Windows setup/WinPE media use this one, so generated stores are reproducible.</summary>
    public Guid LoaderId { get; init; } = BcdWellKnownObjects.SetupMediaLoader;

    public string Description { get; init; } = "Windows PE";

    public ulong TimeoutSeconds { get; init; } = 30;

    /// <summary>
    /// ramdisktftpblocksize: 1456 fits a 1500-byte MTU with room for tunnels/VLANs (spec §5.3). Null leaves it
    /// out (bootmgr then asks for small blocks and the WIM loads slowly).
    /// </summary>
    public ulong? TftpBlockSize { get; init; } = 1456;

    /// <summary>ramdisktftpwindowsize: RFC 7440 window; 8 is in the 4-16 range that works on ordinary LANs.</summary>
    public ulong? TftpWindowSize { get; init; } = 8;

    /// <summary>ramdisktftpvarwindow: Microsoft's variable window extension (msftwindow); off unless the TFTP server supports it.</summary>
    public bool TftpVariableWindow { get; init; }

    /// <summary>{bootmgr} nointegritychecks: lets wimboot's patched bootmgr and unsigned drivers load (seed 000).</summary>
    public bool NoIntegrityChecks { get; init; } = true;

    /// <summary>Timestamp written into the hive; null = <see cref="HiveWriteOptions.ReferenceTimestamp"/>, so the same options always give the same bytes.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>Inputs of <see cref="BcdRecipes.Windows"/>.</summary>
public sealed class WindowsBcdOptions
{
    public BcdWindowsDevice Device { get; init; } = BcdWindowsDevice.Boot;

    public BcdFirmware Firmware { get; init; } = BcdFirmware.Bios;

    public Guid LoaderId { get; init; } = new("c0c0c0c0-0000-4000-8000-000000000001");

    /// <summary>Null: "Windows (boot device)" or "Windows (locate)", the names of the spec's reference stores.</summary>
    public string? Description { get; init; }

    public string SystemRoot { get; init; } = @"\Windows";

    public ulong TimeoutSeconds { get; init; } = 5;

    public bool NoIntegrityChecks { get; init; }

    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>Inputs of <see cref="BcdRecipes.Vhd"/>.</summary>
public sealed class VhdBcdOptions
{
    /// <summary>Path of the VHD/VHDX on the partition that holds it, e.g. <c>\images\win.vhdx</c>.</summary>
    public string VhdPath { get; init; } = @"\images\windows.vhdx";

    /// <summary>Where the VHD file lives: by default "[locate]", the first partition on which the file exists.</summary>
    public BcdDevice? VhdParent { get; init; }

    public BcdFirmware Firmware { get; init; } = BcdFirmware.Bios;

    public Guid LoaderId { get; init; } = new("d0d0d0d0-0000-4000-8000-000000000001");

    public string Description { get; init; } = "Windows (VHD)";

    public string SystemRoot { get; init; } = @"\Windows";

    public ulong TimeoutSeconds { get; init; } = 5;

    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>
/// Whole stores for the common network-boot cases, each the equivalent of a bcdedit script (spec §2.6),
/// returned as hive bytes ready to serve. Deterministic: same options, same bytes (the server can cache them).
/// </summary>
public static class BcdRecipes
{
    /// <summary>
    /// WinPE from a ramdisk over PXE/wimboot (spec §2.6 A; seeds 001, 004): {bootmgr} with the entry as default
    /// and only display entry, an osloader with <c>ramdisk=[boot]WIM,{ramdiskoptions}</c>, winpe and detecthal,
    /// and {ramdiskoptions} with the SDI file and TFTP tuning.
    /// </summary>
    public static byte[] WinPe(WinPeBcdOptions options) => BuildWinPe(options).ToBytes(WriteOptions(options.Timestamp));

    public static BcdStore BuildWinPe(WinPeBcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckPath(options.WimPath, "WIM path");
        CheckPath(options.SdiPath, "SDI path");
        var store = BcdStore.Create();
        var manager = store.CreateObject(BcdWellKnownObjects.BootManager, BcdObjectTypes.BootManager, "Windows Boot Manager");
        manager.SetObject(BcdElementTypes.DefaultObject, options.LoaderId);
        manager.SetObjectList(BcdElementTypes.DisplayOrder, [options.LoaderId]);
        manager.SetInteger(BcdElementTypes.Timeout, options.TimeoutSeconds);
        if (options.NoIntegrityChecks)
            manager.SetBoolean(BcdElementTypes.NoIntegrityChecks, true);

        var ramdisk = new BcdDeviceElement(new BcdDevice.Ramdisk(new BcdDevice.Boot(), options.WimPath), BcdWellKnownObjects.RamdiskOptions);
        var loader = store.CreateObject(options.LoaderId, BcdObjectTypes.OsLoader, options.Description);
        loader.SetDevice(BcdElementTypes.Device, ramdisk);
        loader.SetString(BcdElementTypes.Path, Winload(options.Firmware, @"\windows"));
        loader.SetDevice(BcdElementTypes.OsDevice, ramdisk);
        loader.SetString(BcdElementTypes.SystemRoot, @"\windows");
        loader.SetBoolean(BcdElementTypes.DetectHal, true);
        loader.SetBoolean(BcdElementTypes.WinPe, true);

        var ramdiskOptions = store.CreateObject(BcdWellKnownObjects.RamdiskOptions, BcdObjectTypes.DeviceOptions, "Ramdisk Options");
        ramdiskOptions.SetDevice(BcdElementTypes.RamdiskSdiDevice, new BcdDeviceElement(new BcdDevice.Boot()));
        ramdiskOptions.SetString(BcdElementTypes.RamdiskSdiPath, options.SdiPath);
        if (options.TftpBlockSize is { } blockSize)
            ramdiskOptions.SetInteger(BcdElementTypes.RamdiskTftpBlockSize, blockSize);
        if (options.TftpWindowSize is { } windowSize)
            ramdiskOptions.SetInteger(BcdElementTypes.RamdiskTftpWindowSize, windowSize);
        if (options.TftpVariableWindow)
            ramdiskOptions.SetBoolean(BcdElementTypes.RamdiskTftpVarWindow, true);
        return store;
    }

    /// <summary>
    /// Windows on a disk without disk-specific ids (spec §2.6 B/C; seed 000): <c>device/osdevice boot</c>, or
    /// <c>locate=custom:12000002</c> / <c>locate=custom:22000002</c> so bootmgr finds whichever partition holds
    /// winload and \Windows. One store then serves every clone of a golden image.
    /// </summary>
    public static byte[] Windows(WindowsBcdOptions options) => BuildWindows(options).ToBytes(WriteOptions(options.Timestamp));

    public static BcdStore BuildWindows(WindowsBcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckPath(options.SystemRoot, "system root");
        var winload = Winload(options.Firmware, options.SystemRoot);
        BcdDevice device, osDevice;
        switch (options.Device)
        {
            case BcdWindowsDevice.Boot:
                (device, osDevice) = (new BcdDevice.Boot(), new BcdDevice.Boot());
                break;
            case BcdWindowsDevice.Locate:
                device = new BcdDevice.Locate(BcdLocateKind.ByElement, BcdElementTypes.Path, "", null);
                osDevice = new BcdDevice.Locate(BcdLocateKind.ByElement, BcdElementTypes.SystemRoot, "", null);
                break;
            default:
                device = new BcdDevice.Locate(BcdLocateKind.ByString, 0, winload, null);
                osDevice = new BcdDevice.Locate(BcdLocateKind.ByString, 0, options.SystemRoot, null);
                break;
        }
        var description = options.Description ?? (options.Device == BcdWindowsDevice.Boot ? "Windows (boot device)" : "Windows (locate)");
        return BuildDiskStore(
            options.LoaderId, description, new BcdDeviceElement(device), new BcdDeviceElement(osDevice),
            options.SystemRoot, options.Firmware, options.TimeoutSeconds, options.NoIntegrityChecks);
    }

    /// <summary>
    /// Native VHD boot: <c>device</c> and <c>osdevice</c> = <c>vhd=[locate]\images\x.vhd</c> (bcdedit's form: a
    /// locate-by-element wrapper around the VHD, spec §3.4), so the VHD is found on whichever partition has it.
    /// </summary>
    public static byte[] Vhd(VhdBcdOptions options) => BuildVhd(options).ToBytes(WriteOptions(options.Timestamp));

    public static BcdStore BuildVhd(VhdBcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckPath(options.VhdPath, "VHD path");
        CheckPath(options.SystemRoot, "system root");
        var parent = options.VhdParent ?? new BcdDevice.Locate(BcdLocateKind.ByString, 0, options.VhdPath, null);
        var device = new BcdDeviceElement(BcdDevice.Vhd(parent, options.VhdPath, BcdElementTypes.Path));
        var osDevice = new BcdDeviceElement(BcdDevice.Vhd(parent, options.VhdPath, BcdElementTypes.SystemRoot));
        return BuildDiskStore(options.LoaderId, options.Description, device, osDevice, options.SystemRoot, options.Firmware, options.TimeoutSeconds, noIntegrityChecks: false);
    }

    /// <summary>Hive writer options for a recipe: a fixed timestamp unless one is given.</summary>
    public static HiveWriteOptions WriteOptions(DateTimeOffset? timestamp) =>
        new() { Timestamp = timestamp ?? HiveWriteOptions.ReferenceTimestamp };

    private static BcdStore BuildDiskStore(
        Guid loaderId, string description, BcdDeviceElement device, BcdDeviceElement osDevice, string systemRoot,
        BcdFirmware firmware, ulong timeout, bool noIntegrityChecks)
    {
        var store = BcdStore.Create();
        var manager = store.CreateObject(BcdWellKnownObjects.BootManager, BcdObjectTypes.BootManager, "Windows Boot Manager");
        manager.SetObject(BcdElementTypes.DefaultObject, loaderId);
        manager.SetObjectList(BcdElementTypes.DisplayOrder, [loaderId]);
        manager.SetInteger(BcdElementTypes.Timeout, timeout);
        if (noIntegrityChecks)
            manager.SetBoolean(BcdElementTypes.NoIntegrityChecks, true);

        var loader = store.CreateObject(loaderId, BcdObjectTypes.OsLoader, description);
        loader.SetDevice(BcdElementTypes.Device, device);
        loader.SetString(BcdElementTypes.Path, Winload(firmware, systemRoot));
        loader.SetDevice(BcdElementTypes.OsDevice, osDevice);
        loader.SetString(BcdElementTypes.SystemRoot, systemRoot);
        return store;
    }

    private static string Winload(BcdFirmware firmware, string systemRoot) =>
        systemRoot + (firmware == BcdFirmware.Uefi ? @"\system32\winload.efi" : @"\system32\winload.exe");

    private static void CheckPath(string path, string what)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '\\' || path.Contains('/', StringComparison.Ordinal))
            throw new BcdException($"{what} '{path}' must be a Windows path starting with a backslash, like \\sources\\boot.wim");
    }
}
