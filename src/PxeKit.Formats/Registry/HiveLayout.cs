namespace PxeKit.Formats.Registry;

/// <summary>
/// On-disk offsets and constants of the regf format, in the order of the spec (shared/specs/bcd.md §1,
/// msuhanov "Windows registry file format specification"). All fields are little-endian. "Cell offsets"
/// are relative to the first hive bin, which starts at file offset 0x1000.
/// </summary>
internal static class HiveLayout
{
    public const int BaseBlockSize = 0x1000;
    public const int BinAlignment = 0x1000;
    public const int BinHeaderSize = 0x20;
    public const int CellAlignment = 8;
    public const uint NoCell = 0xFFFFFFFF;

    /// <summary>hivex refuses anything smaller than a base block plus one bin (handle.c).</summary>
    public const int MinimumFileSize = 0x2000;

    /// <summary>Our own cap: Span-based reading wants int offsets, and no real hive (SOFTWARE is ~100 MiB) comes close.</summary>
    public const int MaximumFileSize = 1 << 30;

    /// <summary>Windows' key depth limit (REG_MAX_KEY_DEPTH 512); a deeper chain is hostile.</summary>
    public const int MaximumKeyDepth = 512;

    /// <summary>Largest data one cell carries in hives of minor ≥ 4 before "db" big data is used (CM_KEY_VALUE_BIG).</summary>
    public const int BigDataSegmentSize = 16344;

    public static ReadOnlySpan<byte> RegfSignature => "regf"u8;
    public static ReadOnlySpan<byte> HbinSignature => "hbin"u8;

    /// <summary>Base block ("regf") fields.</summary>
    public static class BaseBlock
    {
        public const int Signature = 0x000;
        public const int PrimarySequence = 0x004;
        public const int SecondarySequence = 0x008;
        public const int LastWritten = 0x00C;
        public const int MajorVersion = 0x014;
        public const int MinorVersion = 0x018;
        public const int FileType = 0x01C;
        public const int FileFormat = 0x020;
        public const int RootCell = 0x024;
        public const int HiveBinsDataSize = 0x028;
        public const int ClusteringFactor = 0x02C;
        public const int FileName = 0x030;
        public const int FileNameSize = 64;
        public const int Checksum = 0x1FC;
    }

    /// <summary>Hive bin header fields.</summary>
    public static class Bin
    {
        public const int Signature = 0x00;
        public const int Offset = 0x04;
        public const int Size = 0x08;
        public const int Timestamp = 0x14;
    }

    /// <summary>Key node ("nk") payload fields, after the 4-byte cell size.</summary>
    public static class KeyNode
    {
        public const int Signature = 0x00;
        public const int Flags = 0x02;
        public const int LastWritten = 0x04;
        public const int AccessBits = 0x0C;
        public const int Parent = 0x10;
        public const int SubKeyCount = 0x14;
        public const int VolatileSubKeyCount = 0x18;
        public const int SubKeyList = 0x1C;
        public const int VolatileSubKeyList = 0x20;
        public const int ValueCount = 0x24;
        public const int ValueList = 0x28;
        public const int Security = 0x2C;
        public const int Class = 0x30;
        public const int MaxSubKeyNameLength = 0x34;
        public const int MaxSubKeyClassLength = 0x38;
        public const int MaxValueNameLength = 0x3C;
        public const int MaxValueDataLength = 0x40;
        public const int WorkVar = 0x44;
        public const int NameLength = 0x48;
        public const int ClassLength = 0x4A;
        public const int Name = 0x4C;

        public const ushort FlagHiveEntry = 0x0004;
        public const ushort FlagNoDelete = 0x0008;
        public const ushort FlagCompressedName = 0x0020;
    }

    /// <summary>Value ("vk") payload fields.</summary>
    public static class ValueNode
    {
        public const int Signature = 0x00;
        public const int NameLength = 0x02;
        public const int DataSize = 0x04;
        public const int DataOffset = 0x08;
        public const int Type = 0x0C;
        public const int Flags = 0x10;
        public const int Spare = 0x12;
        public const int Name = 0x14;

        public const ushort FlagCompressedName = 0x0001;

        /// <summary>DataSize bit 31: the data (≤ 4 bytes) sits in the DataOffset field itself.</summary>
        public const uint DataInline = 0x80000000;
    }

    /// <summary>Security ("sk") payload fields.</summary>
    public static class Security
    {
        public const int Signature = 0x00;
        public const int Flink = 0x04;
        public const int Blink = 0x08;
        public const int ReferenceCount = 0x0C;
        public const int DescriptorLength = 0x10;
        public const int Descriptor = 0x14;
    }

    /// <summary>Subkey lists ("lf", "lh", "li", "ri") and big data ("db") headers.</summary>
    public static class List
    {
        public const int Signature = 0x00;
        public const int Count = 0x02;
        public const int Entries = 0x04;
        public const int HashedEntrySize = 8;
        public const int IndexEntrySize = 4;

        public const int BigDataSegmentList = 0x04;
        public const int BigDataHeaderSize = 0x08;
    }
}
