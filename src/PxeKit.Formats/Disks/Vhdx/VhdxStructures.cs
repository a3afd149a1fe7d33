using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Formats.Disks.Vhdx;

/// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every VHDX header, region table
/// and log entry. Table-driven; System.IO.Hashing is not a dependency of this assembly.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>CRC of <paramref name="data"/> with the 4-byte checksum field at <paramref name="fieldOffset"/>
    /// taken as zero, as the spec defines it.</summary>
    public static uint ComputeWithZeroField(ReadOnlySpan<byte> data, int fieldOffset)
    {
        var crc = 0xFFFFFFFFu;
        for (var i = 0; i < data.Length; i++)
        {
            var b = i >= fieldOffset && i < fieldOffset + 4 ? (byte)0 : data[i];
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc ^ 0xFFFFFFFFu;
    }
}

/// <summary>Constants of the MS-VHDX layout (v1.0).</summary>
internal static class VhdxLayout
{
    public const long MiB = 1024 * 1024;
    public const long Header1Offset = 64 * 1024;
    public const long Header2Offset = 128 * 1024;
    public const long RegionTable1Offset = 192 * 1024;
    public const long RegionTable2Offset = 256 * 1024;
    public const int HeaderSize = 4096;
    public const int RegionTableSize = 64 * 1024;
    public const int MetadataTableSize = 64 * 1024;
    public const long MaxVirtualSize = 64L * 1024 * 1024 * 1024 * 1024;
    public const int MinBlockSize = 1024 * 1024;
    public const int MaxBlockSize = 256 * 1024 * 1024;
    public const int DefaultBlockSize = 32 * 1024 * 1024;
    public const int SectorBitmapBlockSize = 1024 * 1024;

    public static readonly Guid BatRegion = new("2DC27766-F623-4200-9D64-115E9BFD4A08");
    public static readonly Guid MetadataRegion = new("8B7CA206-4790-4B9A-B8FE-575F050F886E");
    public static readonly Guid FileParametersItem = new("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
    public static readonly Guid VirtualDiskSizeItem = new("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    public static readonly Guid Page83DataItem = new("BECA12AB-B2E6-4523-93EF-C309E000C746");
    public static readonly Guid LogicalSectorSizeItem = new("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
    public static readonly Guid PhysicalSectorSizeItem = new("CDA348C7-445D-4471-9CC9-E9885251C556");
    public static readonly Guid ParentLocatorItem = new("A8D35F2B-B30B-454D-ABF7-D3D84834AB0C");
    public static readonly Guid VhdxParentLocatorType = new("B04AEFB7-D19E-4A81-B789-25B8E9445913");

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}

/// <summary>Payload and sector-bitmap block states (low 3 bits of a BAT entry).</summary>
internal static class BlockState
{
    public const int NotPresent = 0;
    public const int Undefined = 1;
    public const int Zero = 2;
    public const int Unmapped = 3;
    public const int FullyPresent = 6;
    public const int PartiallyPresent = 7;
    public const int BitmapPresent = 6;

    public static string Name(int state) => state switch
    {
        NotPresent => "NOT_PRESENT", Undefined => "UNDEFINED", Zero => "ZERO", Unmapped => "UNMAPPED",
        FullyPresent => "FULLY_PRESENT", PartiallyPresent => "PARTIALLY_PRESENT", _ => $"reserved state {state}",
    };
}

/// <summary>One of the two 4 KiB headers at 64 KiB and 128 KiB.</summary>
internal sealed record VhdxHeader(ulong Sequence, Guid FileWriteGuid, Guid DataWriteGuid, Guid LogGuid,
    ushort LogVersion, ushort Version, uint LogLength, ulong LogOffset)
{
    public static VhdxHeader? Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length < VhdxLayout.HeaderSize || !b[..4].SequenceEqual("head"u8))
            return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(b[4..]) != Crc32C.ComputeWithZeroField(b[..VhdxLayout.HeaderSize], 4))
            return null;
        return new VhdxHeader(BinaryPrimitives.ReadUInt64LittleEndian(b[8..]), new Guid(b.Slice(16, 16)),
            new Guid(b.Slice(32, 16)), new Guid(b.Slice(48, 16)), BinaryPrimitives.ReadUInt16LittleEndian(b[64..]),
            BinaryPrimitives.ReadUInt16LittleEndian(b[66..]), BinaryPrimitives.ReadUInt32LittleEndian(b[68..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[72..]));
    }

    public byte[] Serialize()
    {
        var b = new byte[VhdxLayout.HeaderSize];
        "head"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), Sequence);
        FileWriteGuid.TryWriteBytes(b.AsSpan(16));
        DataWriteGuid.TryWriteBytes(b.AsSpan(32));
        LogGuid.TryWriteBytes(b.AsSpan(48));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(64), LogVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(66), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(68), LogLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(72), LogOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), Crc32C.ComputeWithZeroField(b, 4));
        return b;
    }
}

internal readonly record struct RegionEntry(Guid Id, long FileOffset, uint Length, bool Required);

/// <summary>The region table (BAT, metadata) at 192 KiB with its copy at 256 KiB.</summary>
internal static class RegionTable
{
    public const int MaxEntries = 2047;

    /// <summary>Parses a table; null with a reason when its signature or CRC is wrong.</summary>
    public static List<RegionEntry>? Parse(ReadOnlySpan<byte> b, out string? problem)
    {
        problem = null;
        if (!b[..4].SequenceEqual("regi"u8)) { problem = "no 'regi' signature"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(b[4..]) != Crc32C.ComputeWithZeroField(b[..VhdxLayout.RegionTableSize], 4))
        { problem = "CRC-32C mismatch"; return null; }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (count > MaxEntries) { problem = $"{count} entries (at most {MaxEntries})"; return null; }
        var list = new List<RegionEntry>();
        for (var i = 0; i < count; i++)
        {
            var e = b.Slice(16 + i * 32, 32);
            list.Add(new RegionEntry(new Guid(e[..16]), (long)BinaryPrimitives.ReadUInt64LittleEndian(e[16..]),
                BinaryPrimitives.ReadUInt32LittleEndian(e[24..]), (BinaryPrimitives.ReadUInt32LittleEndian(e[28..]) & 1) != 0));
        }
        return list;
    }

    public static byte[] Serialize(IReadOnlyList<RegionEntry> entries)
    {
        var b = new byte[VhdxLayout.RegionTableSize];
        "regi"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = b.AsSpan(16 + i * 32, 32);
            entries[i].Id.TryWriteBytes(e);
            BinaryPrimitives.WriteUInt64LittleEndian(e[16..], (ulong)entries[i].FileOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], entries[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[28..], entries[i].Required ? 1u : 0u);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), Crc32C.ComputeWithZeroField(b, 4));
        return b;
    }
}

internal readonly record struct MetadataEntry(Guid Id, uint Offset, uint Length, bool IsUser, bool IsVirtualDisk, bool Required);

/// <summary>The metadata region: a 64 KiB table of items, then the items (offsets relative to the region).</summary>
internal static class MetadataTable
{
    public static List<MetadataEntry>? Parse(ReadOnlySpan<byte> b, out string? problem)
    {
        problem = null;
        if (!b[..8].SequenceEqual("metadata"u8)) { problem = "no 'metadata' signature"; return null; }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(b[10..]);
        if (count > 2047) { problem = $"{count} metadata entries (at most 2047)"; return null; }
        var list = new List<MetadataEntry>();
        for (var i = 0; i < count; i++)
        {
            var e = b.Slice(32 + i * 32, 32);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(e[24..]);
            list.Add(new MetadataEntry(new Guid(e[..16]), BinaryPrimitives.ReadUInt32LittleEndian(e[16..]),
                BinaryPrimitives.ReadUInt32LittleEndian(e[20..]), (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0));
        }
        return list;
    }

    /// <summary>Builds the region: table plus items laid out from 64 KiB on.</summary>
    public static byte[] Build(IReadOnlyList<(Guid Id, byte[] Data, bool IsVirtualDisk)> items, int regionLength)
    {
        var b = new byte[regionLength];
        "metadata"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), (ushort)items.Count);
        var at = VhdxLayout.MetadataTableSize;
        for (var i = 0; i < items.Count; i++)
        {
            var e = b.AsSpan(32 + i * 32, 32);
            items[i].Id.TryWriteBytes(e);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)at);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], (uint)items[i].Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], (items[i].IsVirtualDisk ? 2u : 0u) | 4u);
            items[i].Data.CopyTo(b, at);
            at += (int)VhdxLayout.AlignUp(items[i].Data.Length, 4096);
        }
        return b;
    }
}

/// <summary>The parent locator item: a type GUID and UTF-16LE key/value pairs.</summary>
internal static class ParentLocator
{
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> item, string path, long fileOffset)
    {
        if (item.Length < 20)
            throw new DiskFormatException(path, "the parent locator is shorter than its header", fileOffset);
        var type = new Guid(item[..16]);
        if (type != VhdxLayout.VhdxParentLocatorType)
            throw new DiskFormatException(path, $"unknown parent locator type {type}", fileOffset);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(item[18..]);
        if (20 + count * 12 > item.Length)
            throw new DiskFormatException(path, $"{count} parent locator entries do not fit in the item", fileOffset);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var e = item.Slice(20 + i * 12, 12);
            var ko = BinaryPrimitives.ReadUInt32LittleEndian(e);
            var vo = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
            var kl = BinaryPrimitives.ReadUInt16LittleEndian(e[8..]);
            var vl = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
            if (ko + (long)kl > item.Length || vo + (long)vl > item.Length || kl == 0)
                throw new DiskFormatException(path, $"parent locator entry {i} lies outside the item", fileOffset);
            var key = Encoding.Unicode.GetString(item.Slice((int)ko, kl));
            result[key] = Encoding.Unicode.GetString(item.Slice((int)vo, vl));
        }
        return result;
    }

    public static byte[] Build(IReadOnlyList<(string Key, string Value)> pairs)
    {
        var strings = new List<byte[]>();
        foreach (var (k, v) in pairs)
        {
            strings.Add(Encoding.Unicode.GetBytes(k));
            strings.Add(Encoding.Unicode.GetBytes(v));
        }
        var b = new byte[20 + pairs.Count * 12 + strings.Sum(s => s.Length)];
        VhdxLayout.VhdxParentLocatorType.TryWriteBytes(b);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), (ushort)pairs.Count);
        var at = 20 + pairs.Count * 12;
        for (var i = 0; i < pairs.Count; i++)
        {
            var e = b.AsSpan(20 + i * 12, 12);
            var key = strings[2 * i];
            var value = strings[2 * i + 1];
            BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)at);
            key.CopyTo(b, at);
            at += key.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)at);
            value.CopyTo(b, at);
            at += value.Length;
            BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)key.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(e[10..], (ushort)value.Length);
        }
        return b;
    }
}
