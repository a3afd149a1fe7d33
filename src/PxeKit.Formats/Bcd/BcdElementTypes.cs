namespace PxeKit.Formats.Bcd;

/// <summary>
/// Element types and the names bcdedit uses for them (spec §2.5; sources there: ReactOS bcd.h, Microsoft's
/// BitLocker hex↔name table, DiscUtils, Windows-written stores). Class-2 ("application") elements mean
/// different things for different applications, so names are looked up per object type.
/// </summary>
public static class BcdElementTypes
{
    // Library (any application object).
    public const uint Device = 0x11000001;
    public const uint Path = 0x12000002;
    public const uint Description = 0x12000004;
    public const uint Locale = 0x12000005;
    public const uint Inherit = 0x14000006;
    public const uint NoIntegrityChecks = 0x16000048;
    public const uint TestSigning = 0x16000049;

    // Boot manager.
    public const uint DisplayOrder = 0x24000001;
    public const uint BootSequence = 0x24000002;
    public const uint DefaultObject = 0x23000003;
    public const uint Timeout = 0x25000004;
    public const uint ToolsDisplayOrder = 0x24000010;

    // OS loader.
    public const uint OsDevice = 0x21000001;
    public const uint SystemRoot = 0x22000002;
    public const uint DetectHal = 0x26000010;
    public const uint WinPe = 0x26000022;

    // Device options ({ramdiskoptions}).
    public const uint RamdiskImageOffset = 0x35000001;
    public const uint RamdiskTftpClientPort = 0x35000002;
    public const uint RamdiskSdiDevice = 0x31000003;
    public const uint RamdiskSdiPath = 0x32000004;
    public const uint RamdiskImageLength = 0x35000005;
    public const uint ExportAsCd = 0x36000006;

    /// <summary>0x35000007, not the 0x36000007 of Microsoft's BcdDeviceObjectElementTypes page: format 5 (integer) is the only consistent one (spec §2.5).</summary>
    public const uint RamdiskTftpBlockSize = 0x35000007;
    public const uint RamdiskTftpWindowSize = 0x35000008;
    public const uint RamdiskTftpVarWindow = 0x3600000B;

    private static readonly (uint Type, string Name)[] Library =
    [
        (0x11000001, "device"), (0x12000002, "path"), (0x12000004, "description"), (0x12000005, "locale"),
        (0x14000006, "inherit"), (0x15000007, "truncatememory"), (0x14000008, "recoverysequence"),
        (0x16000009, "recoveryenabled"), (0x1700000a, "badmemorylist"), (0x1600000b, "badmemoryaccess"),
        (0x1500000c, "firstmegabytepolicy"), (0x16000010, "bootdebug"), (0x15000011, "debugtype"),
        (0x15000013, "debugport"), (0x15000014, "baudrate"), (0x16000020, "bootems"), (0x12000030, "loadoptions"),
        (0x16000040, "advancedoptions"), (0x16000041, "optionsedit"), (0x16000046, "graphicsmodedisabled"),
        (0x16000048, "nointegritychecks"), (0x16000049, "testsigning"), (0x1200004a, "fontpath"),
        (0x1500004b, "integrityservices"), (0x15000052, "graphicsresolution"), (0x16000054, "highestmode"),
        (0x16000060, "isolatedcontext"), (0x15000065, "displaymessage"), (0x17000077, "allowedinmemorysettings"),
    ];

    private static readonly (uint Type, string Name)[] BootManagerElements =
    [
        (0x24000001, "displayorder"), (0x24000002, "bootsequence"), (0x23000003, "default"), (0x25000004, "timeout"),
        (0x26000005, "resume"), (0x23000006, "resumeobject"), (0x24000010, "toolsdisplayorder"),
        (0x26000020, "displaybootmenu"), (0x26000021, "noerrordisplay"), (0x21000022, "bcddevice"),
        (0x22000023, "bcdfilepath"), (0x27000030, "customactions"),
    ];

    private static readonly (uint Type, string Name)[] OsLoaderElements =
    [
        (0x21000001, "osdevice"), (0x22000002, "systemroot"), (0x23000003, "resumeobject"), (0x26000010, "detecthal"),
        (0x22000011, "kernel"), (0x22000012, "hal"), (0x25000020, "nx"), (0x25000021, "pae"), (0x26000022, "winpe"),
        (0x26000024, "nocrashautoreboot"), (0x26000042, "novesa"), (0x26000043, "novga"), (0x25000080, "safeboot"),
        (0x26000081, "safebootalternateshell"), (0x26000090, "bootlog"), (0x26000091, "sos"), (0x260000a0, "debug"),
        (0x260000b0, "ems"), (0x250000c2, "bootmenupolicy"), (0x250000e0, "bootstatuspolicy"),
        (0x250000f0, "hypervisorlaunchtype"),
    ];

    private static readonly (uint Type, string Name)[] ResumeElements =
    [
        (0x21000001, "filedevice"), (0x22000002, "filepath"), (0x26000003, "customsettings"), (0x26000004, "pae"),
        (0x21000005, "associatedosdevice"), (0x26000006, "debugoptionenabled"), (0x25000008, "bootmenupolicy"),
    ];

    private static readonly (uint Type, string Name)[] DeviceElements =
    [
        (0x35000001, "ramdiskimageoffset"), (0x35000002, "ramdisktftpclientport"), (0x31000003, "ramdisksdidevice"),
        (0x32000004, "ramdisksdipath"), (0x35000005, "ramdiskimagelength"), (0x36000006, "exportascd"),
        (0x35000007, "ramdisktftpblocksize"), (0x35000008, "ramdisktftpwindowsize"), (0x36000009, "ramdiskmcenabled"),
        (0x3600000a, "ramdiskmctftpfallback"), (0x3600000b, "ramdisktftpvarwindow"),
    ];

    private static readonly (uint Type, string Name)[] TemplateElements =
    [
        (0x45000001, "devicetype"), (0x42000002, "apprelativepath"), (0x42000003, "ramdiskdevicerelativepath"),
        (0x46000004, "omitosloaderelements"), (0x46000010, "recoveryos"),
    ];

    /// <summary>Names of integer values bcdedit shows (and accepts) instead of numbers.</summary>
    private static readonly Dictionary<string, string[]> EnumNames = new(StringComparer.Ordinal)
    {
        ["nx"] = ["OptIn", "OptOut", "AlwaysOff", "AlwaysOn"],
        ["pae"] = ["Default", "ForceEnable", "ForceDisable"],
        ["bootmenupolicy"] = ["Legacy", "Standard"],
        ["debugtype"] = ["Serial", "1394", "USB", "NET", "Local"],
        ["safeboot"] = ["Minimal", "Network", "DsRepair"],
    };

    /// <summary>The bcdedit name of an element in an object of <paramref name="objectType"/>, or "custom:xxxxxxxx".</summary>
    public static string NameOf(uint element, uint objectType)
    {
        foreach (var (type, name) in TableFor(element >> 28, objectType))
        {
            if (type == element)
                return name;
        }
        return "custom:" + element.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Resolves a bcdedit element name ("timeout", "ramdisksdipath") or "custom:XXXXXXXX" for an object of the given
    /// type. Class-1 names work everywhere; application names only where bcdedit accepts them.
    /// </summary>
    public static bool TryParse(string name, uint objectType, out uint element)
    {
        if (name.StartsWith("custom:", StringComparison.OrdinalIgnoreCase))
        {
            var hex = name["custom:".Length..];
            if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                hex = hex[2..];
            return uint.TryParse(hex, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out element)
                && hex.Length <= 8 && (element >> 24 & 0xF) is >= 1 and <= 7;
        }
        for (uint elementClass = 1; elementClass <= 4; elementClass++)
        {
            foreach (var (type, known) in TableFor(elementClass, objectType))
            {
                if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
                {
                    element = type;
                    return true;
                }
            }
        }
        element = 0;
        return false;
    }

    /// <summary>Enum names of an integer element ("OptIn" ...), or null.</summary>
    public static IReadOnlyList<string>? EnumValues(uint element, uint objectType) =>
        EnumNames.TryGetValue(NameOf(element, objectType), out var names) ? names : null;

    private static (uint Type, string Name)[] TableFor(uint elementClass, uint objectType)
    {
        switch (elementClass)
        {
            case 1:
                return Library;
            case 2:
                return BcdObjectTypes.ApplicationCode(objectType) switch
                {
                    1 or 2 => BootManagerElements,
                    3 => OsLoaderElements,
                    4 => ResumeElements,
                    _ => [],
                };
            case 3:
                return DeviceElements;
            case 4:
                return TemplateElements;
            default:
                return [];
        }
    }
}
