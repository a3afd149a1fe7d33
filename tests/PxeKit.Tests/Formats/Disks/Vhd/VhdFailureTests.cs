using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks.Vhd;

/// <summary>I/O failures while allocating (ENOSPC) leave no BAT entry pointing at unwritten data; old fixed images
/// with a 511-byte footer open.</summary>
public sealed class VhdFailureTests
{
    private const string Image = "/images/d.vhd";

    /// <summary>Delegates to a memory file system; the Nth write from now on throws as a full disk would.</summary>
    private sealed class FullDisk(MemoryImageFileSystem inner) : IImageFileSystem
    {
        public int WritesUntilFull { get; set; } = int.MaxValue;

        public bool Exists(string path) => inner.Exists(path);
        public IImageFile Open(string path, bool writable) => new File(this, inner.Open(path, writable));
        public IImageFile Create(string path) => new File(this, inner.Create(path));

        private sealed class File(FullDisk owner, IImageFile inner) : IImageFile
        {
            public string Path => inner.Path;
            public bool CanWrite => inner.CanWrite;
            public long Length => inner.Length;
            public int ReadAt(long offset, Span<byte> buffer) => inner.ReadAt(offset, buffer);

            public void WriteAt(long offset, ReadOnlySpan<byte> buffer)
            {
                if (owner.WritesUntilFull-- <= 0)
                    throw new IOException("No space left on device");
                inner.WriteAt(offset, buffer);
            }

            public void SetLength(long length) => inner.SetLength(length);
            public void Flush() => inner.Flush();
            public void Dispose() => inner.Dispose();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AFailedAllocationLeavesNoEntryAndCanBeRetried(int writesBeforeFull)
    {
        var memory = new MemoryImageFileSystem();
        var fs = new FullDisk(memory);
        using var disk = DiskImage.Create(Image, new DiskCreateOptions(DiskFormat.Vhd, 8L << 20), fs);
        disk.Write(0, VhdDiskTests.Pattern(4096, 1));
        disk.Flush();

        fs.WritesUntilFull = writesBeforeFull;
        Assert.Throws<IOException>(() => disk.Write(4L << 20, VhdDiskTests.Pattern(4096, 2)));
        var back = new byte[4096];
        disk.Read(4L << 20, back);
        Assert.All(back, b => Assert.Equal(0, b));
        using (var reopened = DiskImage.Open(Image, new DiskOpenOptions { FileSystem = memory }))
        {
            Assert.Equal(1, reopened.GetAllocation().AllocatedBlocks);
            Assert.DoesNotContain(reopened.Check(), p => !p.Contains("footer", StringComparison.Ordinal));
        }

        fs.WritesUntilFull = int.MaxValue;
        disk.Write(4L << 20, VhdDiskTests.Pattern(4096, 2));
        disk.Flush();
        using var again = DiskImage.Open(Image, new DiskOpenOptions { FileSystem = memory });
        again.Read(4L << 20, back);
        Assert.Equal(VhdDiskTests.Pattern(4096, 2), back);
        Assert.Empty(again.Check());
    }

    [Fact]
    public void AFixedImageWithAnOld511ByteFooterOpens()
    {
        var fs = new MemoryImageFileSystem();
        using (var disk = DiskImage.Create(Image, new DiskCreateOptions(DiskFormat.Vhd, 1L << 20, Fixed: true), fs))
        {
            disk.Write(0, VhdDiskTests.Pattern(1 << 20, 3));
            disk.Flush();
        }
        fs.Truncate(Image, (1L << 20) + 511);   // the last footer byte is reserved and zero
        Assert.Equal(DiskFormat.Vhd, DiskImage.Probe(Image, fs));
        using var reopened = DiskImage.Open(Image, new DiskOpenOptions { FileSystem = fs });
        Assert.Equal(1L << 20, reopened.Length);
        var back = new byte[1 << 20];
        reopened.Read(0, back);
        Assert.Equal(VhdDiskTests.Pattern(1 << 20, 3), back);
    }
}
