using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Formats.Disks.Vhd;

/// <summary>
/// The 1024-byte dynamic disk header ("cxsparse", VHD spec v1.0 "Dynamic Disk Header Format"), big-endian, at the
/// footer's data offset of a dynamic or differencing image. Differencing images name their parent here.
/// </summary>
internal sealed record VhdDynamicHeader
{
    public const int Size = 1024;
    public const int LocatorCount = 8;
    public const int ParentNameBytes = 512;
    public const uint DefaultBlockSize = 2 * 1024 * 1024;

    public static ReadOnlySpan<byte> Cookie => "cxsparse"u8;

    private static class Offsets
    {
        public const int Cookie = 0x000;
        public const int DataOffset = 0x008;
        public const int TableOffset = 0x010;
        public const int HeaderVersion = 0x018;
        public const int MaxTableEntries = 0x01c;
        public const int BlockSize = 0x020;
        public const int Checksum = 0x024;
        public const int ParentUniqueId = 0x028;
        public const int ParentTimeStamp = 0x038;
        public const int ParentUnicodeName = 0x040;
        public const int ParentLocators = 0x240;
    }

    public ulong TableOffset { get; init; }
    public uint MaxTableEntries { get; init; }
    public uint BlockSize { get; init; }
    public uint Checksum { get; init; }
    public byte[] ParentUniqueId { get; init; } = new byte[16];
    public uint ParentTimeStamp { get; init; }

    /// <summary>The parent's file name (UTF-16 big-endian on disk, up to 256 characters, NUL-padded).</summary>
    public string ParentUnicodeName { get; init; } = "";

    public ParentLocator[] Locators { get; init; } = new ParentLocator[LocatorCount];

    public static bool TryParse(ReadOnlySpan<byte> bytes, out VhdDynamicHeader header, out string error)
    {
        header = null!;
        if (bytes.Length < Size)
        {
            error = $"the dynamic header needs {Size} bytes, {bytes.Length} remain (truncated image)";
            return false;
        }
        bytes = bytes[..Size];
        if (!bytes[..8].SequenceEqual(Cookie))
        {
            error = "no dynamic header here (cookie is not 'cxsparse')";
            return false;
        }
        var stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.Checksum..]);
        var computed = VhdFooter.ComputeChecksum(bytes, Offsets.Checksum);
        if (stored != computed)
        {
            error = $"dynamic header checksum is 0x{stored:x8} but the bytes give 0x{computed:x8} (corrupt header)";
            return false;
        }
        var locators = new ParentLocator[LocatorCount];
        for (var i = 0; i < LocatorCount; i++)
            locators[i] = ParentLocator.Parse(bytes.Slice(Offsets.ParentLocators + i * ParentLocator.Size, ParentLocator.Size));
        var name = Encoding.BigEndianUnicode.GetString(bytes.Slice(Offsets.ParentUnicodeName, ParentNameBytes));
        var nul = name.IndexOf('\0', StringComparison.Ordinal);
        header = new VhdDynamicHeader
        {
            TableOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[Offsets.TableOffset..]),
            MaxTableEntries = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.MaxTableEntries..]),
            BlockSize = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.BlockSize..]),
            Checksum = stored,
            ParentUniqueId = bytes.Slice(Offsets.ParentUniqueId, 16).ToArray(),
            ParentTimeStamp = BinaryPrimitives.ReadUInt32BigEndian(bytes[Offsets.ParentTimeStamp..]),
            ParentUnicodeName = nul >= 0 ? name[..nul] : name,
            Locators = locators,
        };
        error = "";
        return true;
    }

    public int GetEncodedLength() => Size;

    public void WriteTo(Span<byte> span)
    {
        var bytes = span[..Size];
        bytes.Clear();
        Cookie.CopyTo(bytes[Offsets.Cookie..]);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[Offsets.DataOffset..], ulong.MaxValue);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[Offsets.TableOffset..], TableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.HeaderVersion..], 0x00010000);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.MaxTableEntries..], MaxTableEntries);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.BlockSize..], BlockSize);
        ParentUniqueId.AsSpan(0, 16).CopyTo(bytes[Offsets.ParentUniqueId..]);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.ParentTimeStamp..], ParentTimeStamp);
        var name = ParentUnicodeName.Length > ParentNameBytes / 2 ? ParentUnicodeName[..(ParentNameBytes / 2)] : ParentUnicodeName;
        Encoding.BigEndianUnicode.GetBytes(name, bytes.Slice(Offsets.ParentUnicodeName, ParentNameBytes));
        for (var i = 0; i < LocatorCount; i++)
            Locators[i].WriteTo(bytes.Slice(Offsets.ParentLocators + i * ParentLocator.Size, ParentLocator.Size));
        BinaryPrimitives.WriteUInt32BigEndian(bytes[Offsets.Checksum..], VhdFooter.ComputeChecksum(bytes, Offsets.Checksum));
    }
}

/// <summary>
/// One 24-byte parent locator entry. Platform code W2ku = absolute path, W2ru = relative path, both UTF-16
/// little-endian without NUL (spec "Parent Locator Entry"). <see cref="DataSpace"/> is written in bytes, as Windows
/// and DiscUtils do, although the spec says sectors; readers use <see cref="DataLength"/>.
/// </summary>
internal readonly record struct ParentLocator(uint PlatformCode, uint DataSpace, uint DataLength, ulong DataOffset)
{
    public const int Size = 24;
    public static uint W2ku => VhdFooter.FourCc("W2ku"u8);
    public static uint W2ru => VhdFooter.FourCc("W2ru"u8);

    public bool IsEmpty => PlatformCode == 0;

    public static ParentLocator Parse(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt32BigEndian(bytes[0x00..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[0x04..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[0x08..]),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[0x10..]));

    public void WriteTo(Span<byte> bytes)
    {
        bytes[..Size].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(bytes[0x00..], PlatformCode);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[0x04..], DataSpace);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[0x08..], DataLength);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[0x10..], DataOffset);
    }
}
