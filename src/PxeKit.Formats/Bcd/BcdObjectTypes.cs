namespace PxeKit.Formats.Bcd;

/// <summary>
/// Object types stored in <c>Objects\{id}\Description\Type</c>:
/// <c>(ObjectCode &lt;&lt; 28) | (ImageOrInheritClass &lt;&lt; 20) | ApplicationCode</c> (spec §2.2).
/// </summary>
public static class BcdObjectTypes
{
    public const uint FirmwareBootManager = 0x10100001;
    public const uint BootManager = 0x10100002;
    public const uint FirmwareApplication = 0x101FFFFF;
    public const uint OsLoader = 0x10200003;
    public const uint Resume = 0x10200004;
    public const uint MemoryTester = 0x10200005;
    public const uint LegacyLoader = 0x10300006;
    public const uint SetupLoader = 0x10300007;
    public const uint BootSector = 0x10300008;
    public const uint StartupModule = 0x10400009;
    public const uint BootApplication = 0x1040000A;
    public const uint InheritAny = 0x20100000;
    public const uint InheritOsLoader = 0x20200003;
    public const uint InheritResume = 0x20200004;
    public const uint DeviceOptions = 0x30000000;

    /// <summary>Object code, bits 28-31: 1 application, 2 inheritable settings, 3 device options.</summary>
    public static uint ObjectCode(uint type) => type >> 28;

    /// <summary>Application code of an application object, or of the applications an inherit object serves.</summary>
    public static uint ApplicationCode(uint type) => type & 0xFFFFF;

    /// <summary>bcdedit's <c>/application</c> names (bcdedit /? /create).</summary>
    public static IReadOnlyDictionary<string, uint> ApplicationNames { get; } = new Dictionary<string, uint>(StringComparer.OrdinalIgnoreCase)
    {
        ["bootsector"] = BootSector,
        ["osloader"] = OsLoader,
        ["resume"] = Resume,
        ["startup"] = StartupModule,
        ["bootapp"] = BootApplication,
        ["fwbootmgr"] = FirmwareBootManager,
        ["bootmgr"] = BootManager,
        ["memdiag"] = MemoryTester,
        ["ntldr"] = LegacyLoader,
        ["setupldr"] = SetupLoader,
    };

    /// <summary>bcdedit's <c>/inherit</c> names.</summary>
    public static IReadOnlyDictionary<string, uint> InheritNames { get; } = new Dictionary<string, uint>(StringComparer.OrdinalIgnoreCase)
    {
        ["any"] = InheritAny,
        ["osloader"] = InheritOsLoader,
        ["resume"] = InheritResume,
    };

    /// <summary>Heading bcdedit prints above an object (spec §2.2; some are best effort there).</summary>
    public static string Heading(uint type, Guid id)
    {
        switch (type)
        {
            case FirmwareBootManager: return "Firmware Boot Manager";
            case BootManager: return "Windows Boot Manager";
            case FirmwareApplication: return "Firmware Application (101fffff)";
            case OsLoader: return "Windows Boot Loader";
            case Resume: return "Resume from Hibernate";
            case MemoryTester: return "Windows Memory Tester";
            case LegacyLoader: return "Windows Legacy OS Loader";
            case SetupLoader: return "Windows Setup Loader";
            case BootSector: return "Real-mode Boot Sector";
            case StartupModule: return "Real-mode Startup Module";
            case BootApplication: return "Boot Application";
            case InheritOsLoader:
                return id == BcdWellKnownObjects.HypervisorSettings ? "Hypervisor Settings" : "Boot Loader Settings";
            case InheritResume: return "Resume Loader Settings";
            case DeviceOptions:
                return id == BcdWellKnownObjects.RamdiskOptions ? "Setup Ramdisk Options" : "Device options";
            case InheritAny:
                if (id == BcdWellKnownObjects.DebuggerSettings)
                    return "Debugger Settings";
                if (id == BcdWellKnownObjects.EmsSettings)
                    return "EMS Settings";
                if (id == BcdWellKnownObjects.BadMemory)
                    return "RAM Defects";
                return id == BcdWellKnownObjects.GlobalSettings ? "Global Settings" : "Inheritable Settings";
            default:
                return $"Object of type {type:x8}";
        }
    }
}
