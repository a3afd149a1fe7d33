using System.Buffers.Binary;
using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks.Vhd;

/// <summary>
/// A crash at every point of a write sequence leaves an image that opens and holds every flushed write; hostile
/// images are refused with a DiskFormatException that names the file, without a single write.
/// </summary>
public sealed class VhdCrashAndHostileTests
{
    private const string Base = "/images/base.vhd";
    private const string Child = "/images/child.vhd";
    private const long Size = 8L * 1024 * 1024;
    private const int Block = 1024 * 1024;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACrashAtAnyPointKeepsEveryFlushedWrite(bool differencing)
    {
        var fs = new MemoryImageFileSystem();
        using (var parent = DiskImage.Create(Base, new DiskCreateOptions(DiskFormat.Vhd, Size) { VhdBlockSize = Block }, fs))
        {
            parent.Write(0, VhdDiskTests.Pattern((int)Size, 77));
            parent.Flush();
        }
        string path;
        if (differencing)
        {
            DiskImage.CreateChild(Base, Child, fs).Dispose();
            path = Child;
        }
        else
        {
            path = "/images/dyn.vhd";
            DiskImage.Create(path, new DiskCreateOptions(DiskFormat.Vhd, Size) { VhdBlockSize = Block }, fs).Dispose();
        }

        // Writes: new blocks, partial sectors, rewrites of present sectors, a block boundary; flushes between.
        var writes = new (long Offset, int Length)[]
        {
            (100, 10), (Block * 3L + 5000, 70000), (Block - 1000, 3000), (100, 4096), (Size - 4096, 4096),
            (Block * 5L, Block + 512), (Block * 3L + 4096, 100), (2 * Block + 700, 1),
        };
        var flushedAfter = new List<int>();  // journal length when each write's Flush returned
        var model = new byte[Size];
        if (differencing)
        {
            using var parentDisk = DiskImage.Open(Base, new DiskOpenOptions { FileSystem = fs });
            parentDisk.Read(0, model);
        }
        var models = new List<byte[]>();

        fs.StartJournal();
        using (var disk = DiskImage.Open(path, new DiskOpenOptions { FileSystem = fs, Writable = true }))
        {
            for (var i = 0; i < writes.Length; i++)
            {
                var (offset, length) = writes[i];
                var bytes = VhdDiskTests.Pattern(length, 500 + i);
                disk.Write(offset, bytes);
                bytes.CopyTo(model, offset);
                if (i % 2 == 1 || i == writes.Length - 1)
                {
                    disk.Flush();
                    flushedAfter.Add(fs.Journal.Count);
                    models.Add((byte[])model.Clone());
                }
            }
        }
        var baseHash = fs.Hash(Base);

        var initial = new byte[Size];
        if (differencing)
        {
            using var p = DiskImage.Open(Base, new DiskOpenOptions { FileSystem = fs });
            p.Read(0, initial);
        }

        var actual = new byte[Size];
        for (var cut = 0; cut <= fs.Journal.Count; cut++)
        {
            var crashed = fs.CrashAfter(cut);
            using var disk = DiskImage.Open(path, new DiskOpenOptions { FileSystem = crashed });
            disk.Read(0, actual);
            var durable = -1;
            for (var f = 0; f < flushedAfter.Count; f++)
            {
                if (flushedAfter[f] <= cut)
                    durable = f;
            }
            var expected = durable < 0 ? initial : models[durable];
            // Every write flushed before the cut reads back; a write after the last flush may or may not.
            for (var i = 0; i < writes.Length; i++)
            {
                var flushedIndex = FlushIndexOf(i, writes.Length);
                if (flushedIndex > durable)
                    continue;
                var (offset, length) = writes[i];
                if (!LaterWriteCovers(writes, i, durable, writes.Length))
                    Assert.True(expected.AsSpan((int)offset, length).SequenceEqual(actual.AsSpan((int)offset, length)),
                        $"cut {cut}/{fs.Journal.Count}: flushed write {i} at {offset} did not survive");
            }
            // Bytes never written read as before (parent or zeros), whatever the cut.
            var written = new bool[Size];
            foreach (var (offset, length) in writes)
                written.AsSpan((int)offset, length).Fill(true);
            for (var b = 0; b < Size; b += 509)
            {
                if (!written[b])
                    Assert.True(initial[b] == actual[b], $"cut {cut}: unwritten byte {b} changed");
            }
            Assert.DoesNotContain(disk.Check(), p => !p.Contains("footer", StringComparison.Ordinal));
        }
        Assert.True(fs.Journal.Count > 40, $"only {fs.Journal.Count} operations: the sequence should allocate several blocks");
        Assert.Equal(baseHash, fs.Hash(Base));
    }

    private static int FlushIndexOf(int write, int count)
    {
        // Flush after writes 1, 3, 5, ... and after the last one.
        var index = 0;
        for (var i = 0; i < count; i++)
        {
            if (i == write)
                return index;
            if (i % 2 == 1)
                index++;
        }
        return index;
    }

    /// <summary>A later write (flushed or not) may overlap an earlier flushed one; then only the model of the
    /// newest durable state is compared, which <see cref="ACrashAtAnyPointKeepsEveryFlushedWrite"/> skips.</summary>
    private static bool LaterWriteCovers((long Offset, int Length)[] writes, int write, int durable, int count)
    {
        for (var j = write + 1; j < count; j++)
        {
            if (FlushIndexOf(j, count) <= durable)
                continue;
            var (o, l) = writes[j];
            var (wo, wl) = writes[write];
            if (o < wo + wl && wo < o + l)
                return true;
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------ hostile

    private static MemoryImageFileSystem Dynamic(out byte[] image)
    {
        var fs = new MemoryImageFileSystem();
        using (var disk = DiskImage.Create(Base, new DiskCreateOptions(DiskFormat.Vhd, Size) { VhdBlockSize = Block }, fs))
        {
            disk.Write(0, VhdDiskTests.Pattern(4096, 1));
            disk.Write(3 * Block, VhdDiskTests.Pattern(4096, 2));
            disk.Flush();
        }
        image = fs.ReadAll(Base);
        return fs;
    }

    private static void AssertRefused(MemoryImageFileSystem fs, string path, string expectedText)
    {
        fs.StartJournal();
        var error = Assert.Throws<DiskFormatException>(() =>
        {
            using var disk = DiskImage.Open(path, new DiskOpenOptions { FileSystem = fs, Writable = true });
        });
        Assert.Contains(Path.GetFullPath(path), error.Message, StringComparison.Ordinal);
        Assert.Contains(expectedText, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(fs.Journal, o => o.Kind != MemoryImageFileSystem.OperationKind.Flush);
    }

    private static void PokeFooters(MemoryImageFileSystem fs, byte[] image, Action<byte[]> edit)
    {
        var footer = image.AsSpan(image.Length - 512).ToArray();
        edit(footer);
        VhdDiskTests.FixFooterChecksum(footer);
        fs.Poke(Base, image.Length - 512, footer);
        fs.Poke(Base, 0, footer);
    }

    private static void PokeHeader(MemoryImageFileSystem fs, byte[] image, Action<byte[]> edit)
    {
        var header = image.AsSpan(512, 1024).ToArray();
        edit(header);
        VhdDiskTests.FixChecksum(header, 0x24);
        fs.Poke(Base, 512, header);
    }

    [Fact]
    public void BadFooterChecksumsAreRefused()
    {
        var fs = Dynamic(out var image);
        fs.Poke(Base, image.Length - 512 + 0x30, [0x7f]);
        fs.Poke(Base, 0x30, [0x7f]);
        AssertRefused(fs, Base, "checksum");
    }

    [Fact]
    public void ALostTrailingFooterIsRecoveredFromTheCopy()
    {
        var fs = Dynamic(out var image);
        fs.Truncate(Base, image.Length - 512);
        using var disk = DiskImage.Open(Base, new DiskOpenOptions { FileSystem = fs });
        var back = new byte[4096];
        disk.Read(3 * Block, back);
        Assert.Equal(VhdDiskTests.Pattern(4096, 2), back);
        Assert.Contains(disk.Check(), p => p.Contains("missing or corrupt", StringComparison.Ordinal));
    }

    [Fact]
    public void ABadHeaderChecksumIsRefused()
    {
        var fs = Dynamic(out var image);
        fs.Poke(Base, 512 + 0x1c, [0x12]);
        AssertRefused(fs, Base, "dynamic header checksum");
    }

    [Fact]
    public void ATruncatedHeaderIsRefused()
    {
        var fs = new MemoryImageFileSystem();
        Dynamic(out var image);
        fs.Add(Base, image.AsSpan(0, 900).ToArray());
        AssertRefused(fs, Base, "not a usable VHD");
        var fs2 = new MemoryImageFileSystem();
        var bytes = image.AsSpan(0, 512 + 700).ToArray().Concat(image.AsSpan(image.Length - 512).ToArray()).ToArray();
        fs2.Add(Base, bytes);
        AssertRefused(fs2, Base, "dynamic header");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(128u)]
    [InlineData(3u * 4096)]
    [InlineData(512u * 1024 * 1024)]
    public void BlockSizesThatAreNotPowersOfTwoOrAbsurdAreRefused(uint blockSize)
    {
        var fs = Dynamic(out var image);
        PokeHeader(fs, image, h => BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(0x20), blockSize));
        AssertRefused(fs, Base, "block size");
    }

    [Fact]
    public void AVirtualSizeAboveTheVhdLimitIsRefused()
    {
        var fs = Dynamic(out var image);
        PokeFooters(fs, image, f => BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(0x30), 4UL << 40));
        AssertRefused(fs, Base, "2040 GiB");
    }

    [Fact]
    public void ABatLargerThanTheFileIsRefused()
    {
        var fs = Dynamic(out var image);
        PokeHeader(fs, image, h => BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(0x1c), 0x40000000));
        AssertRefused(fs, Base, "does not fit in the file");
    }

    [Fact]
    public void TooFewBatEntriesForTheSizeAreRefused()
    {
        var fs = Dynamic(out var image);
        PokeHeader(fs, image, h => BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(0x1c), 2));
        AssertRefused(fs, Base, "too few");
    }

    [Fact]
    public void ABatTooLargeToHoldInMemoryIsRefusedBeforeAllocating()
    {
        // 2040 GiB in 4 KiB blocks would be 534 million entries (2 GiB of BAT).
        var fs = Dynamic(out var image);
        PokeFooters(fs, image, f => BinaryPrimitives.WriteUInt64BigEndian(f.AsSpan(0x30), 2040UL << 30));
        PokeHeader(fs, image, h =>
        {
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(0x20), 4096);
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(0x1c), 0xFFFFFFFF);
        });
        AssertRefused(fs, Base, "more BAT than we keep in memory");
    }

    private static void PokeBat(MemoryImageFileSystem fs, int entry, uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        fs.Poke(Base, 1536 + entry * 4, bytes);
    }

    [Fact]
    public void BatEntriesPastTheEndOfTheFileAreRefused()
    {
        var fs = Dynamic(out _);
        PokeBat(fs, 5, 0x00F00000);
        AssertRefused(fs, Base, "past the end");
    }

    [Fact]
    public void BatEntriesOverlappingTheHeaderAreRefused()
    {
        var fs = Dynamic(out _);
        PokeBat(fs, 5, 1);
        AssertRefused(fs, Base, "overlaps");
    }

    [Fact]
    public void TwoBatEntriesForTheSameBlockAreRefused()
    {
        var fs = Dynamic(out var image);
        var first = BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(1536));
        PokeBat(fs, 6, first);
        AssertRefused(fs, Base, "overlap");
    }

    [Fact]
    public void ABlockRunningIntoTheFooterIsRefused()
    {
        var fs = Dynamic(out var image);
        PokeBat(fs, 6, (uint)((image.Length - 512 - 4096) / 512));
        AssertRefused(fs, Base, "into the footer");
    }

    [Fact]
    public void AMissingParentIsNamedWithThePathsTried()
    {
        var fs = Dynamic(out _);
        DiskImage.CreateChild(Base, Child, fs).Dispose();
        fs.Truncate(Base, 0);
        var files = new MemoryImageFileSystem();
        files.Add(Child, fs.ReadAll(Child));
        files.StartJournal();
        var error = Assert.Throws<DiskFormatException>(() => DiskImage.Open(Child, new DiskOpenOptions { FileSystem = files, Writable = true }));
        Assert.Contains("'base.vhd' was not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("/images/base.vhd", error.Message, StringComparison.Ordinal);
        Assert.Empty(files.Journal);
    }

    [Fact]
    public void AReplacedParentIsRefusedUnlessIdentityChecksAreOff()
    {
        var fs = Dynamic(out _);
        DiskImage.CreateChild(Base, Child, fs).Dispose();
        var other = new MemoryImageFileSystem();
        DiskImage.Create(Base, new DiskCreateOptions(DiskFormat.Vhd, Size) { VhdBlockSize = Block }, other).Dispose();
        fs.Add(Base, other.ReadAll(Base));
        fs.StartJournal();
        var error = Assert.Throws<DiskFormatException>(() => DiskImage.Open(Child, new DiskOpenOptions { FileSystem = fs, Writable = true }));
        Assert.Contains("replaced or modified", error.Message, StringComparison.Ordinal);
        Assert.Empty(fs.Journal);
        using var lenient = DiskImage.Open(Child, new DiskOpenOptions { FileSystem = fs, CheckParentIdentity = false });
        Assert.NotNull(lenient.Parent);
    }

    [Theory]
    [InlineData(0x10, 0x7FFFFFFF00000000UL)]   // data offset far past the end
    [InlineData(0x08, 0xFFFFFFF0UL)]           // data length of 4 GiB
    public void ParentLocatorsOutsideTheFileAreRefused(int field, ulong value)
    {
        var fs = Dynamic(out _);
        DiskImage.CreateChild(Base, Child, fs).Dispose();
        var child = fs.ReadAll(Child);
        var header = child.AsSpan(512, 1024).ToArray();
        if (field == 0x10)
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(0x240 + field), value);
        else
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(0x240 + field), (uint)value);
        VhdDiskTests.FixChecksum(header, 0x24);
        fs.Poke(Child, 512, header);
        AssertRefused(fs, Child, "parent locator 0");
    }

    [Fact]
    public void AChildThatIsItsOwnParentIsALoop()
    {
        var fs = Dynamic(out _);
        DiskImage.CreateChild(Base, Child, fs).Dispose();
        // Make the child's parent name and locators point at itself: rename the parent away, and the child to base.vhd.
        var child = fs.ReadAll(Child);
        var loop = new MemoryImageFileSystem();
        loop.Add(Base, child);
        var error = Assert.Throws<DiskFormatException>(() => DiskImage.Open(Base, new DiskOpenOptions { FileSystem = loop, CheckParentIdentity = false }));
        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
    }
}
