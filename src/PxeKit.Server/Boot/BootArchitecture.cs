using System.Globalization;

namespace PxeKit.Server.Boot;

/// <summary>Names of the RFC 4578 §2.1 / IANA "Processor Architecture Types" a sysadmin reads in traces.</summary>
public static class BootArchitecture
{
    /// <summary>"UEFI x64" for 7, "BIOS" for 0; "arch 42" for a code without a name here.</summary>
    public static string Name(ushort code) => code switch
    {
        0 => "BIOS",
        1 => "NEC PC98",
        2 => "Itanium",
        6 => "UEFI x86",
        7 => "UEFI x64",
        // Byte code in RFC 4578, but x64 firmware sends it (errata 4624).
        9 => "UEFI x64",
        10 => "UEFI ARM32",
        11 => "UEFI ARM64",
        15 => "UEFI x86 HTTP",
        16 => "UEFI x64 HTTP",
        18 => "UEFI ARM32 HTTP",
        19 => "UEFI ARM64 HTTP",
        20 => "BIOS HTTP",
        25 => "UEFI RISC-V 32",
        27 => "UEFI RISC-V 64",
        29 => "UEFI RISC-V 128",
        39 => "UEFI LoongArch64",
        _ => "arch " + code.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>"UEFI x64 (arch 7)": the name and the number the firmware sent.</summary>
    public static string Describe(ushort code) =>
        string.Create(CultureInfo.InvariantCulture, $"{Name(code)} (arch {code})");
}
