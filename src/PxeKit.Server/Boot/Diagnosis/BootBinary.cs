using System.Buffers.Binary;

namespace PxeKit.Server.Boot.Diagnosis;

/// <summary>Which firmware a boot file is built for.</summary>
public enum BootBinaryFirmware
{
    Unknown,

    /// <summary>A PXE NBP for the BIOS PXE ROM (undionly.kpxe, pxelinux.0, wdsnbp.com): real-mode code, no header.</summary>
    Bios,

    /// <summary>A UEFI application: a PE/COFF image.</summary>
    Efi,
}

/// <summary>
/// Tells BIOS boot files from UEFI ones, by name and by their first bytes, and names RFC 4578 architectures the way
/// a sysadmin reads them. The most common PXE failure after a missing file is the wrong binary for the firmware:
/// a UEFI ROM cannot run undionly.kpxe, and a BIOS ROM cannot run ipxe.efi.
/// </summary>
public static class BootBinary
{
    /// <summary>Bytes read to classify a file: the DOS header and the PE header it points to are at the start.</summary>
    public const int HeaderBytes = 4096;

    /// <summary>PE/COFF offsets (Microsoft PE format spec, "MS-DOS stub" and "COFF file header").</summary>
    private static class Pe
    {
        public const int NewHeaderOffset = 0x3C;   // e_lfanew, little-endian uint32
        public const int MachineAfterSignature = 4; // Machine follows "PE\0\0"
        public const ushort MachineI386 = 0x014C;
        public const ushort MachineArmThumb = 0x01C2;
        public const ushort MachineArmNt = 0x01C4;
        public const ushort MachineAmd64 = 0x8664;
        public const ushort MachineArm64 = 0xAA64;
        public const ushort MachineEfiByteCode = 0x0EBC;
    }

    /// <summary>By extension: .efi is UEFI; .kpxe, .kkpxe, .kkkpxe, .pxe, .0, .com and .n12 are BIOS NBPs.</summary>
    public static BootBinaryFirmware FromName(string name)
    {
        var query = name.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? name[..query] : name;
        var extension = Path.GetExtension(path.Replace('\\', '/')).ToLowerInvariant();
        return extension switch
        {
            ".efi" => BootBinaryFirmware.Efi,
            ".kpxe" or ".kkpxe" or ".kkkpxe" or ".pxe" or ".0" or ".com" or ".n12" => BootBinaryFirmware.Bios,
            _ => BootBinaryFirmware.Unknown,
        };
    }

    /// <summary>"MZ" at the start is a PE image (UEFI); anything else is taken for a BIOS NBP (which has no header).
    /// Unknown for an empty file.</summary>
    public static BootBinaryFirmware FromContent(ReadOnlySpan<byte> start) =>
        start.Length < 2 ? BootBinaryFirmware.Unknown
        : start[0] == (byte)'M' && start[1] == (byte)'Z' ? BootBinaryFirmware.Efi
        : BootBinaryFirmware.Bios;

    /// <summary>The PE machine of a UEFI image as iPXE's <c>${buildarch}</c> names it (i386, x86_64, arm32, arm64,
    /// ebc), or null when the header is not there or not a PE header.</summary>
    public static string? PeMachine(ReadOnlySpan<byte> start)
    {
        if (start.Length < Pe.NewHeaderOffset + 4 || FromContent(start) != BootBinaryFirmware.Efi)
            return null;
        var header = BinaryPrimitives.ReadUInt32LittleEndian(start[Pe.NewHeaderOffset..]);
        if (header > (uint)(start.Length - Pe.MachineAfterSignature - 2))
            return null;
        var at = (int)header;
        if (!start.Slice(at, 4).SequenceEqual("PE\0\0"u8))
            return null;
        return BinaryPrimitives.ReadUInt16LittleEndian(start[(at + Pe.MachineAfterSignature)..]) switch
        {
            Pe.MachineI386 => "i386",
            Pe.MachineAmd64 => "x86_64",
            Pe.MachineArmThumb or Pe.MachineArmNt => "arm32",
            Pe.MachineArm64 => "arm64",
            Pe.MachineEfiByteCode => "ebc",
            _ => null,
        };
    }

    /// <summary>The firmware an RFC 4578 architecture boots: 0 is BIOS, 6 and up UEFI; 1-5 (PC-98, Itanium, Alpha,
    /// Arc, Lean Client) are neither here.</summary>
    public static BootBinaryFirmware FirmwareOf(ushort architecture) => architecture switch
    {
        0 => BootBinaryFirmware.Bios,
        >= 6 => BootBinaryFirmware.Efi,
        _ => BootBinaryFirmware.Unknown,
    };

    /// <summary>iPXE's <c>${buildarch}</c> a UEFI architecture needs, or null (BIOS and unknown codes).</summary>
    public static string? BuildArchOf(ushort architecture) => architecture switch
    {
        6 or 15 => "i386",
        7 or 9 or 16 => "x86_64",
        10 or 18 => "arm32",
        11 or 19 => "arm64",
        _ => null,
    };

    /// <summary>"UEFI x64 (7)", "BIOS (0)", "UEFI HTTP ARM64 (19)".</summary>
    public static string DescribeArchitecture(ushort architecture) => architecture switch
    {
        0 => "BIOS (0)",
        6 => "UEFI IA32 (6)",
        7 => "UEFI x64 (7)",
        9 => "UEFI x64 (9)",
        10 => "UEFI ARM32 (10)",
        11 => "UEFI ARM64 (11)",
        15 => "UEFI HTTP IA32 (15)",
        16 => "UEFI HTTP x64 (16)",
        18 => "UEFI HTTP ARM32 (18)",
        19 => "UEFI HTTP ARM64 (19)",
        _ => $"architecture {architecture}",
    };

    /// <summary>iPXE's own builds, by file name: what DHCP must not hand to iPXE again (a chain loop).</summary>
    public static bool IsIpxeBinary(string name)
    {
        var file = Path.GetFileName(name.Replace('\\', '/')).ToLowerInvariant();
        var dot = file.LastIndexOf('.');
        if (dot <= 0)
            return false;
        var (stem, extension) = (file[..dot], file[(dot + 1)..]);
        return extension is "efi" or "kpxe" or "kkpxe" or "kkkpxe" or "pxe" or "lkrn"
            && (stem.StartsWith("ipxe", StringComparison.Ordinal) || stem.StartsWith("undionly", StringComparison.Ordinal)
                || stem.StartsWith("snponly", StringComparison.Ordinal) || stem == "snp");
    }

    /// <summary>The first <see cref="HeaderBytes"/> of a resolved file (generated or on disk), or null when it
    /// cannot be read.</summary>
    public static byte[]? ReadStart(BootFileLookup lookup)
    {
        if (lookup.Content is { } content)
            return content.AsSpan(0, Math.Min(content.Length, HeaderBytes)).ToArray();
        if (lookup.FullPath is null)
            return null;
        try
        {
            using var handle = File.OpenHandle(lookup.FullPath);
            var buffer = new byte[(int)Math.Min(RandomAccess.GetLength(handle), HeaderBytes)];
            var read = RandomAccess.Read(handle, buffer, 0);
            return buffer.AsSpan(0, read).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
