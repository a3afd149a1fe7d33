using System.Buffers.Binary;
using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks.Vhdx;

/// <summary>Malformed and hostile VHDX files are refused with a DiskFormatException naming the file, and opening
/// them (even writable) writes nothing. Offsets are those of our writer's layout: headers 64/128 KiB, region
/// tables 192/256 KiB, log 1 MiB, metadata 2 MiB (items from +64 KiB, 4 KiB apart), BAT 3 MiB, data from 4 MiB.</summary>
public sealed class VhdxHostileTests
{
    private const long MiB = 1024 * 1024;
    private static readonly string Image = Path.GetFullPath("/hostile/h.vhdx");

    private static MemoryImageFileSystem Make()
    {
        var fs = new MemoryImageFileSystem();
        using var disk = DiskImage.Create(Image, new DiskCreateOptions(DiskFormat.Vhdx, 8 * MiB) { VhdxBlockSize = (int)MiB }, fs);
        disk.Write(0, new byte[4096]);
        disk.Write(MiB, new byte[4096]);
        return fs;
    }

    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0x82F63B78u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>Rewrites the CRC of the structure of <paramref name="size"/> bytes at <paramref name="offset"/>.</summary>
    private static void Restamp(MemoryImageFileSystem fs, long offset, int size)
    {
        var all = fs.ReadAll(Image);
        var s = all.AsSpan((int)offset, size).ToArray();
        s.AsSpan(4, 4).Clear();
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C(s));
        fs.Poke(Image, offset + 4, crc);
    }

    private static void PokeU64(MemoryImageFileSystem fs, long offset, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        fs.Poke(Image, offset, b);
    }

    private static void PokeU32(MemoryImageFileSystem fs, long offset, uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        fs.Poke(Image, offset, b);
    }

    private static void Edit(MemoryImageFileSystem fs, string what)
    {
        const long meta = 2 * MiB, bat = 3 * MiB;
        switch (what)
        {
            case "both-header-crcs": fs.Poke(Image, 64 * 1024 + 100, [1]); fs.Poke(Image, 128 * 1024 + 100, [1]); break;
            case "both-region-crcs": fs.Poke(Image, 192 * 1024 + 40, [1]); fs.Poke(Image, 256 * 1024 + 40, [1]); break;
            case "bat-beyond-eof": PokeU64(fs, bat, (1000UL << 20) | 6); break;
            case "bat-into-metadata": PokeU64(fs, bat, (2UL << 20) | 6); break;
            case "bat-entries-overlap": PokeU64(fs, bat + 8, bat == 0 ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(fs.ReadAll(Image).AsSpan((int)bat))); break;
            case "partial-without-parent": PokeU64(fs, bat, (4UL << 20) | 7); break;
            case "size-128TiB": PokeU64(fs, meta + 68 * 1024, 128UL << 40); break;
            case "size-zero": PokeU64(fs, meta + 68 * 1024, 0); break;
            case "block-3MiB": PokeU32(fs, meta + 64 * 1024, 3 * 1024 * 1024); break;
            case "block-512KiB": PokeU32(fs, meta + 64 * 1024, 512 * 1024); break;
            case "block-512MiB": PokeU32(fs, meta + 64 * 1024, 512 * 1024 * 1024); break;
            case "block-zero": PokeU32(fs, meta + 64 * 1024, 0); break;
            case "sector-1000": PokeU32(fs, meta + 76 * 1024, 1000); break;
            case "item-outside-region": PokeU32(fs, meta + 32 + 16, 0x00FFF000); break;
            case "item-length-huge": PokeU32(fs, meta + 32 + 20, 0xFFFFFFFF); break;
            case "unknown-required-item": fs.Poke(Image, meta + 32 + 2 * 32, Guid.NewGuid().ToByteArray()); break;
            case "unknown-required-region":
                fs.Poke(Image, 192 * 1024 + 16, Guid.NewGuid().ToByteArray());
                Restamp(fs, 192 * 1024, 64 * 1024);
                fs.Poke(Image, 256 * 1024 + 40, [1]);
                break;
            case "region-count-huge":
                PokeU32(fs, 192 * 1024 + 8, 5000); Restamp(fs, 192 * 1024, 64 * 1024); fs.Poke(Image, 256 * 1024 + 40, [1]); break;
            case "bat-region-beyond-eof":
                PokeU64(fs, 192 * 1024 + 16 + 16, 1UL << 40); Restamp(fs, 192 * 1024, 64 * 1024); fs.Poke(Image, 256 * 1024 + 40, [1]); break;
            case "truncated": fs.Truncate(Image, 3 * MiB + 4096); break;
            case "truncated-tiny": fs.Truncate(Image, 100); break;
            case "log-beyond-eof":
                foreach (var h in new[] { 64 * 1024L, 128 * 1024L }) { PokeU64(fs, h + 72, 1UL << 40); Restamp(fs, h, 4096); }
                break;
            default: throw new ArgumentException(what);
        }
    }

    public static TheoryData<string> Cases() => new()
    {
        "both-header-crcs", "both-region-crcs", "bat-beyond-eof", "bat-into-metadata", "bat-entries-overlap",
        "partial-without-parent", "size-128TiB", "size-zero", "block-3MiB", "block-512KiB", "block-512MiB", "block-zero",
        "sector-1000", "item-outside-region", "item-length-huge", "unknown-required-item", "unknown-required-region",
        "region-count-huge", "bat-region-beyond-eof", "truncated", "truncated-tiny", "log-beyond-eof",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileImageIsRefusedWithoutWriting(string what)
    {
        var fs = Make();
        Edit(fs, what);
        var before = fs.Hash(Image);
        foreach (var writable in new[] { false, true })
        {
            var options = (writable ? DiskOpenOptions.ReadWrite : DiskOpenOptions.ReadOnly) with { FileSystem = fs };
            var e = Assert.Throws<DiskFormatException>(() => DiskImage.Open(Image, options).Dispose());
            Assert.Contains(Image, e.Message);
        }
        Assert.Equal(before, fs.Hash(Image));
    }

    [Fact]
    public void OneBadHeaderFallsBackToTheOtherAndCheckSaysSo()
    {
        var fs = Make();
        fs.Poke(Image, 128 * 1024 + 100, [1]);
        using var disk = DiskImage.Open(Image, DiskOpenOptions.ReadOnly with { FileSystem = fs });
        Assert.Contains(disk.Check(), p => p.Contains("header 2"));
    }

    /// <summary>A log whose entries chain back onto themselves, and one whose entry claims to be longer than the
    /// log, end the scan (bounded) and are not replayed.</summary>
    [Theory]
    [InlineData("loop")]
    [InlineData("runs-off")]
    public void MalformedLogEntriesDoNotHangOrApply(string kind)
    {
        var fs = new MemoryImageFileSystem();
        DiskImage.Create(Image, new DiskCreateOptions(DiskFormat.Vhdx, 8 * MiB) { VhdxBlockSize = (int)MiB }, fs).Dispose();
        fs.StartJournal();
        using (var disk = DiskImage.Open(Image, DiskOpenOptions.ReadWrite with { FileSystem = fs }))
        {
            disk.Write(0, new byte[] { 0xAB });
            disk.Flush();
        }
        var cut = VhdxDiskTests.IndexOfLogEntryFlush(fs);
        var crashed = fs.CrashAfter(cut + 1);
        var entry = crashed.ReadAll(Image).AsSpan((int)MiB, 8192).ToArray();
        if (kind == "loop")
        {
            // The entry's length is the whole log: the next entry is itself, at the same offset.
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), (uint)MiB);
        }
        else
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), (uint)(2 * MiB));
        entry.AsSpan(4, 4).Clear();
        var full = new byte[kind == "loop" ? MiB : 8192];
        entry.CopyTo(full, 0);
        if (kind == "loop")
        {
            var crcInput = (byte[])full.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(full.AsSpan(4), Crc32C(crcInput));
        }
        crashed.Poke(Image, MiB, full);
        using var ro = DiskImage.Open(Image, DiskOpenOptions.ReadOnly with { FileSystem = crashed });
        var b = new byte[1];
        ro.Read(0, b);
        // "loop" is a valid (if odd) single entry whose data sector is still right: replayed. "runs-off" is not an entry.
        Assert.Equal(kind == "loop" ? 0xAB : 0, b[0]);
    }
}
