using PxeKit.Formats.Bcd;
using PxeKit.Formats.Registry;

namespace PxeKit.Tests.Formats.Bcd;

/// <summary>The bcdedit sequences behind the reference stores of spec §8, replayed through the store API.</summary>
internal static class ReferenceStores
{
    public static readonly Guid WinPeEntry = new("a4f89c62-2142-11e6-80b6-00155da04110");
    public static readonly Guid BootEntry = new("b0b0b0b0-0000-4000-8000-000000000001");
    public static readonly Guid LocateEntry = new("c0c0c0c0-0000-4000-8000-000000000001");

    public static HiveWriteOptions Options => new() { Timestamp = HiveWriteOptions.ReferenceTimestamp };

    /// <summary>Sequence (A): WinPE ramdisk over PXE, exactly as Microsoft's PXE article lists it.</summary>
    public static BcdStore SequenceA()
    {
        var store = BcdStore.Create();
        var ramdisk = store.CreateObject(BcdWellKnownObjects.RamdiskOptions, BcdObjectTypes.DeviceOptions, "Ramdisk options");
        store.SetElement(ramdisk.Id, "ramdisksdidevice", "boot");
        store.SetElement(ramdisk.Id, "ramdisksdipath", @"\Boot\boot.sdi");
        var entry = store.CreateObject(WinPeEntry, BcdObjectTypes.OsLoader, "MyWinPE Boot Image");
        store.SetElement(entry.Id, "detecthal", "Yes");
        store.SetElement(entry.Id, "winpe", "Yes");
        store.SetElement(entry.Id, "osdevice", @"ramdisk=[boot]\Boot\WinPE.wim,{ramdiskoptions}");
        store.SetElement(entry.Id, "device", @"ramdisk=[boot]\Boot\WinPE.wim,{ramdiskoptions}");
        store.CreateObject(BcdWellKnownObjects.BootManager, BcdObjectTypes.BootManager, "Windows BootManager");
        store.SetElement(BcdWellKnownObjects.BootManager, "timeout", "30");
        store.SetDisplayOrder([WinPeEntry]);
        return store;
    }

    public static BcdStore SequenceAUefi()
    {
        var store = SequenceA();
        store.SetElement(WinPeEntry, "path", @"\windows\system32\winload.efi");
        store.SetElement(BcdWellKnownObjects.RamdiskOptions, "ramdisktftpblocksize", "1456");
        store.SetElement(BcdWellKnownObjects.RamdiskOptions, "ramdisktftpwindowsize", "8");
        return store;
    }
}
