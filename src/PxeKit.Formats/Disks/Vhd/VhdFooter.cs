using System.Buffers.Binary;

namespace PxeKit.Formats.Disks.Vhd;

/// <summary>
/// The 512-byte VHD footer (hard disk footer, VHD spec v1.0 "Hard Disk Footer Format"), big-endian. It ends every
/// VHD; dynamic and differencing images also carry a copy at offset 0.
/// </summary>
internal sealed record VhdFooter
{
    public const int Size = 512;

    /// <summary>Microsoft's limit for VHD (and qemu's VHD_MAX_SECTORS 0xff000000): 2040 GiB.</summary>
    public const long MaxDiskSize = 0xff000000L * 512;

    /// <summary>Unused data offset of a fixed disk (spec: "set to 0xFFFFFFFF" in every byte).</summary>
    public const ulong NoDataOffset = ulong.MaxValue;

    public static ReadOnlySpan<byte> Cookie => "conectix"u8;

    private static class Offsets
    {
        public const int Cookie = 0x00;
        public const int Features = 0x08;
        public const int FormatVersion = 0x0c;
        public const int DataOffset = 0x10;
        public const int TimeStamp = 0x18;
        public const int CreatorApplication = 0x1c;
        public const int CreatorVersion = 0x20;
        public const int CreatorHostOs = 0x24;
        public const int OriginalSize = 0x28;
        public const int CurrentSize = 0x30;
        public const int Cylinders = 0x38;
        public const int Heads = 0x3a;
        public const int SectorsPerTrack = 0x3b;
        public const int DiskType = 0x3c;
        public const int Checksum = 0x40;
        public const int UniqueId = 0x44;
        public const int SavedState = 0x54;
    }

    /// <summary>Spec: bit 1 "Reserved. This bit must always be set to 1".</summary>
    public const uint FeaturesReserved = 0x2;
    public const uint FormatVersion10 = 0x00010000;

    public uint Features { get; init; } = FeaturesReserved;
    public ulong DataOffset { get; init; }
    public uint TimeStamp { get; init; }
    public uint CreatorApplication { get; init; }
    public uint CreatorVersion { get; init; }
    public uint CreatorHostOs { get; init; }
    public ulong OriginalSize { get; init; }
    public ulong CurrentSize { get; init; }
    public ushort Cylinders { get; init; }
    public byte Heads { get; init; }
    public byte SectorsPerTrack { get; init; }
    public VhdDiskType DiskType { get; init; }
    public uint Checksum { get; init; }
    public byte[] UniqueId { get; init; } = new byte[16];
    public byte SavedState { get; init; }

    /// <summary>
    /// Parses a footer. <paramref name="span"/> may be 511 bytes: older Virtual PC / qemu fixed images end in a
    /// footer whose last (reserved, zero) byte is missing; the checksum still covers 512 bytes with that byte 0.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> span, out VhdFooter footer, out string error)
    {
        footer = null!;
        if (span.Length < Size - 1)
        {
            error = $"the footer needs 512 bytes, {span.Length} remain";
            return false;
        }
        Span<byte> bytes = stackalloc byte[Size];
        bytes.Clear();
        span[..Math.Min(Size, span.Length)].CopyTo(bytes);
        if (!bytes[..8].SequenceEqual(Cookie))
        {
            error = "no VHD footer here (cookie is not 'conectix')";
            return false;
        }
        var stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.Checksum..]);
        var computed = ComputeChecksum(bytes, Offsets.Checksum);
        if (stored != computed)
        {
            error = $"footer checksum is 0x{stored:x8} but the bytes give 0x{computed:x8} (corrupt footer)";
            return false;
        }
        footer = new VhdFooter
        {
            Features = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.Features..]),
            DataOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[Offsets.DataOffset..]),
            TimeStamp = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.TimeStamp..]),
            CreatorApplication = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.CreatorApplication..]),
            CreatorVersion = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.CreatorVersion..]),
            CreatorHostOs = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.CreatorHostOs..]),
            OriginalSize = BinaryPrimitives.ReadUInt64BigEndian(bytes[Offsets.OriginalSize..]),
            CurrentSize = BinaryPrimitives.ReadUInt64BigEndian(bytes[Offsets.CurrentSize..]),
            Cylinders = BinaryPrimitives.ReadUInt16BigEndian(bytes[Offsets.Cylinders..]),
            Heads = bytes[Offsets.Heads],
            SectorsPerTrack = bytes[Offsets.SectorsPerTrack],
            DiskType = (VhdDiskType)BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.DiskType..]),
            Checksum = stored,
            UniqueId = bytes.Slice(Offsets.UniqueId, 16).ToArray(),
            SavedState = bytes[Offsets.SavedState],
        };
        error = "";
        return true;
    }

    public int GetEncodedLength() => Size;

    /// <summary>Writes the footer with its checksum computed over what was written.</summary>
    public void WriteTo(Span<byte> span)
    {
        var bytes = span[..Size];
        bytes.Clear();
        Cookie.CopyTo(bytes[Offsets.Cookie..]);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.Features..], Features);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.FormatVersion..], FormatVersion10);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[Offsets.DataOffset..], DataOffset);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.TimeStamp..], TimeStamp);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.CreatorApplication..], CreatorApplication);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.CreatorVersion..], CreatorVersion);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.CreatorHostOs..], CreatorHostOs);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[Offsets.OriginalSize..], OriginalSize);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[Offsets.CurrentSize..], CurrentSize);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[Offsets.Cylinders..], Cylinders);
        bytes[Offsets.Heads] = Heads;
        bytes[Offsets.SectorsPerTrack] = SectorsPerTrack;
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.DiskType..], (uint)DiskType);
        UniqueId.AsSpan(0, 16).CopyTo(bytes[Offsets.UniqueId..]);
        bytes[Offsets.SavedState] = SavedState;
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.Checksum..], ComputeChecksum(bytes, Offsets.Checksum));
    }

    /// <summary>Spec: "the one's complement of the sum of all the bytes in the footer without the checksum field"
    /// (the same rule for the dynamic header).</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> bytes, int checksumOffset)
    {
        uint sum = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i < checksumOffset || i >= checksumOffset + 4)
                sum = unchecked(sum + bytes[i]);
        }
        return ~sum;
    }

    /// <summary>
    /// CHS geometry for a size, as the spec's appendix computes it. The product rounds down, so it is at most the
    /// size; readers that take the size from CHS (qemu for creators 'vpc ' and 'qemu') would see less, which is why
    /// we write creator 'qem2' (see <see cref="VhdDisk"/>).
    /// </summary>
    public static (ushort Cylinders, byte Heads, byte SectorsPerTrack) ComputeGeometry(long size)
    {
        var totalSectors = size / 512;
        const long Max = 65535L * 16 * 255;
        if (totalSectors > Max)
            totalSectors = Max;
        long sectorsPerTrack, heads, cylinderTimesHeads;
        if (totalSectors >= 65535L * 16 * 63)
        {
            sectorsPerTrack = 255;
            heads = 16;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
        }
        else
        {
            sectorsPerTrack = 17;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
            heads = (cylinderTimesHeads + 1023) / 1024;
            if (heads < 4)
                heads = 4;
            if (cylinderTimesHeads >= heads * 1024 || heads > 16)
            {
                sectorsPerTrack = 31;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
            if (cylinderTimesHeads >= heads * 1024)
            {
                sectorsPerTrack = 63;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
        }
        return ((ushort)(cylinderTimesHeads / heads), (byte)heads, (byte)sectorsPerTrack);
    }

    /// <summary>Seconds since 2000-01-01 00:00:00 UTC, the VHD epoch.</summary>
    public static uint ToVhdTime(DateTimeOffset time)
    {
        var seconds = (long)(time - new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds;
        return (uint)Math.Clamp(seconds, 0, uint.MaxValue);
    }

    public static uint FourCc(ReadOnlySpan<byte> ascii) => BinaryPrimitives.ReadUInt32BigEndian(ascii);
}

internal enum VhdDiskType : uint
{
    Fixed = 2,
    Dynamic = 3,
    Differencing = 4,
}
