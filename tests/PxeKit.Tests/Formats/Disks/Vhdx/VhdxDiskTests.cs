using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks.Vhdx;

public sealed class VhdxDiskTests
{
    private const long MiB = 1024 * 1024;
    private static readonly string Dir = Path.GetFullPath("/vhdx-tests");
    private static string P(string name) => Path.Combine(Dir, name);

    private static DiskOpenOptions Rw(MemoryImageFileSystem fs) => DiskOpenOptions.ReadWrite with { FileSystem = fs };
    private static DiskOpenOptions Ro(MemoryImageFileSystem fs) => DiskOpenOptions.ReadOnly with { FileSystem = fs };

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Theory]
    [InlineData(false, 512)]
    [InlineData(false, 4096)]
    [InlineData(true, 512)]
    [InlineData(true, 4096)]
    public void FixedAndDynamicRoundTrip(bool isFixed, int sector)
    {
        var fs = new MemoryImageFileSystem();
        var data = Pattern(3 * 4096 + 100, 1);
        using (var disk = DiskImage.Create(P("a.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 16 * MiB, isFixed) { VhdxBlockSize = (int)MiB, LogicalSectorSize = sector }, fs))
        {
            Assert.Equal(isFixed ? DiskKind.Fixed : DiskKind.Dynamic, disk.Kind);
            disk.Write(MiB - 5000, data);
            disk.Write(15 * MiB, data.AsSpan(0, 4096));
            disk.Flush();
        }
        using var back = DiskImage.Open(P("a.vhdx"), Ro(fs));
        Assert.Equal(DiskFormat.Vhdx, back.Format);
        Assert.Equal(16 * MiB, back.Length);
        Assert.Equal(sector, back.LogicalSectorSize);
        Assert.Equal(4096, back.PhysicalSectorSize);
        var read = new byte[data.Length];
        back.Read(MiB - 5000, read);
        Assert.Equal(data, read);
        var zero = new byte[4096];
        back.Read(8 * MiB, zero);
        Assert.All(zero, b => Assert.Equal(0, b));
        Assert.Empty(back.Check());
        if (!isFixed)
        {
            Assert.Equal(3, back.GetAllocation().AllocatedBlocks);
            Assert.Equal([(0L, 2 * MiB), (15 * MiB, MiB)], back.GetAllocatedRanges().ToList());
        }
        else
            Assert.Equal([(0L, 16 * MiB)], back.GetAllocatedRanges().ToList());
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public void DifferencingReadsUnwrittenSectorsFromTheParentAndNeverWritesIt(int sector)
    {
        var fs = new MemoryImageFileSystem();
        var baseData = Pattern((int)(4 * MiB), 2);
        using (var parent = DiskImage.Create(P("base.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 8 * MiB) { VhdxBlockSize = (int)MiB, LogicalSectorSize = sector }, fs))
            parent.Write(0, baseData);
        var parentHash = fs.Hash(P("base.vhdx"));
        var patch = Pattern(700, 3);
        using (var child = DiskImage.CreateChild(P("base.vhdx"), P("sub/child.vhdx"), fs))
        {
            Assert.Equal(DiskKind.Differencing, child.Kind);
            child.Write(MiB + 10, patch);
            child.Flush();
        }
        Assert.Equal(parentHash, fs.Hash(P("base.vhdx")));
        using var back = DiskImage.Open(P("sub/child.vhdx"), Rw(fs));
        Assert.NotNull(back.Parent);
        var expected = (byte[])baseData.Clone();
        patch.CopyTo(expected, (int)MiB + 10);
        var read = new byte[baseData.Length];
        back.Read(0, read);
        Assert.Equal(expected, read);
        Assert.Equal([(MiB, (long)sector * ((10 + 700 + sector - 1) / sector))], back.GetAllocatedRanges().ToList());
        Assert.Empty(back.Check());
        Assert.Equal(parentHash, fs.Hash(P("base.vhdx")));
    }

    [Fact]
    public void ModifiedParentIsRefused()
    {
        var fs = new MemoryImageFileSystem();
        using (var parent = DiskImage.Create(P("m.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 4 * MiB) { VhdxBlockSize = (int)MiB }, fs)) { }
        DiskImage.CreateChild(P("m.vhdx"), P("mc.vhdx"), fs).Dispose();
        using (var parent = DiskImage.Open(P("m.vhdx"), Rw(fs)))
            parent.Write(0, new byte[512]);
        var e = Assert.Throws<DiskFormatException>(() => DiskImage.Open(P("mc.vhdx"), Ro(fs)));
        Assert.Contains("modified after the child was made", e.Message);
        DiskImage.Open(P("mc.vhdx"), Ro(fs) with { CheckParentIdentity = false }).Dispose();
    }

    [Fact]
    public void RandomWritesThroughAChildMatchAModel()
    {
        var fs = new MemoryImageFileSystem();
        const int size = (int)(6 * MiB);
        var model = Pattern(size, 4);
        using (var parent = DiskImage.Create(P("pb.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, size) { VhdxBlockSize = (int)MiB }, fs))
            parent.Write(0, model);
        var parentHash = fs.Hash(P("pb.vhdx"));
        var random = new Random(12345);
        using (var child = DiskImage.CreateChild(P("pb.vhdx"), P("pc.vhdx"), fs))
        {
            for (var i = 0; i < 200; i++)
            {
                var length = random.Next(1, 20000);
                var offset = random.Next(0, size - length);
                var data = Pattern(length, i + 100);
                child.Write(offset, data);
                data.CopyTo(model, offset);
                if (i % 37 == 0) child.Flush();
                if (i % 10 == 0)
                {
                    var probe = random.Next(0, size - 9000);
                    var got = new byte[9000];
                    child.Read(probe, got);
                    Assert.Equal(model.AsSpan(probe, 9000).ToArray(), got);
                }
            }
        }
        using var back = DiskImage.Open(P("pc.vhdx"), Ro(fs));
        var all = new byte[size];
        back.Read(0, all);
        Assert.Equal(model, all);
        Assert.Empty(back.Check());
        Assert.Equal(parentHash, fs.Hash(P("pb.vhdx")));
    }

    /// <summary>Cuts the write sequence of a dynamic image and of a child at every operation: every cut opens
    /// (read-only, then writable, which replays the log) and holds every write flushed before the cut.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CrashAtEveryStepKeepsFlushedWrites(bool child)
    {
        var fs = new MemoryImageFileSystem();
        var name = child ? P("cc.vhdx") : P("cd.vhdx");
        if (child)
        {
            using (var parent = DiskImage.Create(P("cp.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 4 * MiB) { VhdxBlockSize = (int)MiB }, fs))
                parent.Write(0, Pattern((int)(4 * MiB), 5));
            DiskImage.CreateChild(P("cp.vhdx"), name, fs).Dispose();
        }
        else
            DiskImage.Create(name, new DiskCreateOptions(DiskFormat.Vhdx, 4 * MiB) { VhdxBlockSize = (int)MiB }, fs).Dispose();

        var writes = new List<(long Offset, byte[] Data)>();
        for (var i = 0; i < 6; i++)
            writes.Add((i * 700_000L + 300, Pattern(5000, 50 + i)));
        var flushedAfter = new List<(int Ops, int Writes)>();
        fs.StartJournal();
        using (var disk = DiskImage.Open(name, Rw(fs)))
        {
            for (var i = 0; i < writes.Count; i++)
            {
                disk.Write(writes[i].Offset, writes[i].Data);
                if (i % 2 == 1)
                {
                    disk.Flush();
                    flushedAfter.Add((fs.Journal.Count, i + 1));
                }
            }
        }
        var total = fs.Journal.Count;
        using var reference = DiskImage.Open(child ? P("cp.vhdx") : name, Ro(fs) with { CheckParentIdentity = false });
        for (var n = 0; n <= total; n++)
        {
            var crashed = fs.CrashAfter(n);
            var mustHold = flushedAfter.Where(f => f.Ops <= n).Select(f => f.Writes).DefaultIfEmpty(0).Max();
            foreach (var writable in new[] { false, true })
            {
                using var disk = DiskImage.Open(name, (writable ? Rw(crashed) : Ro(crashed)));
                for (var i = 0; i < mustHold; i++)
                {
                    var got = new byte[writes[i].Data.Length];
                    disk.Read(writes[i].Offset, got);
                    Assert.True(writes[i].Data.AsSpan().SequenceEqual(got), $"cut after {n}/{total} ops (writable open {writable}): write {i} lost");
                }
                var problems = disk.Check().Where(p => !p.Contains("log is dirty")).ToList();
                Assert.True(problems.Count == 0, $"cut after {n}/{total}: {string.Join("; ", problems)}");
            }
        }
    }

    [Fact]
    public void DirtyLogIsReplayedReadOnlyInMemoryAndWritableOnDisk()
    {
        var fs = new MemoryImageFileSystem();
        DiskImage.Create(P("l.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 4 * MiB) { VhdxBlockSize = (int)MiB }, fs).Dispose();
        var data = Pattern(4096, 9);
        fs.StartJournal();
        using (var disk = DiskImage.Open(P("l.vhdx"), Rw(fs)))
        {
            disk.Write(2 * MiB, data);
            disk.Flush();
        }
        // Cut right after the log entry's fsync: the BAT in place still says NOT_PRESENT.
        var logFlush = IndexOfLogEntryFlush(fs);
        var crashed = fs.CrashAfter(logFlush + 1);
        var before = crashed.Hash(P("l.vhdx"));
        using (var ro = DiskImage.Open(P("l.vhdx"), Ro(crashed)))
        {
            var got = new byte[4096];
            ro.Read(2 * MiB, got);
            Assert.Equal(data, got);
            Assert.Contains(ro.Check(), p => p.Contains("log is dirty"));
        }
        Assert.Equal(before, crashed.Hash(P("l.vhdx")));
        using (var rw = DiskImage.Open(P("l.vhdx"), Rw(crashed))) { }
        Assert.NotEqual(before, crashed.Hash(P("l.vhdx")));
        using var clean = DiskImage.Open(P("l.vhdx"), Ro(crashed));
        Assert.Empty(clean.Check());
        var again = new byte[4096];
        clean.Read(2 * MiB, again);
        Assert.Equal(data, again);
    }

    internal static int IndexOfLogEntryFlush(MemoryImageFileSystem fs)
    {
        for (var i = 0; i < fs.Journal.Count; i++)
        {
            var op = fs.Journal[i];
            if (op.Kind == MemoryImageFileSystem.OperationKind.Write && op.Offset == MiB && op.Data is { Length: > 4 } && op.Data.AsSpan(0, 4).SequenceEqual("loge"u8))
                return i + 1;
        }
        throw new InvalidOperationException("no log entry written");
    }

    [Fact]
    public void FourKiBWriteIntoAllocatedChildBlockWritesDataBitmapSectorAndLogEntryOnly()
    {
        var fs = new MemoryImageFileSystem();
        DiskImage.Create(P("ip.vhdx"), new DiskCreateOptions(DiskFormat.Vhdx, 64 * MiB), fs).Dispose();
        using (var c = DiskImage.CreateChild(P("ip.vhdx"), P("ic.vhdx"), fs))
            c.Write(0, new byte[512]);
        using var disk = DiskImage.Open(P("ic.vhdx"), Rw(fs));
        disk.Write(512, new byte[512]); // first write: header update
        disk.Flush();
        fs.StartJournal();
        disk.Write(16 * 4096, Pattern(4096, 7));
        disk.Flush();
        var writes = fs.Journal.Where(o => o.Kind == MemoryImageFileSystem.OperationKind.Write).ToList();
        Assert.Equal(3, writes.Count);
        Assert.Equal(4096, writes[0].Data!.Length);            // the data
        Assert.Equal(MiB, writes[1].Offset);                   // the log entry (header + one data sector)
        Assert.Equal(8192, writes[1].Data!.Length);
        Assert.Equal(4096, writes[2].Data!.Length);            // the bitmap sector in place
        Assert.DoesNotContain(fs.Journal, o => o.Kind == MemoryImageFileSystem.OperationKind.SetLength);
    }
}
