using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Formats.Disks.Vhd;

/// <summary>
/// A VHD image (Microsoft Virtual Hard Disk Image Format Specification v1.0): fixed (data ‖ footer), dynamic
/// (footer copy ‖ dynamic header ‖ BAT ‖ blocks ‖ footer) or differencing (a dynamic layout whose absent sectors
/// come from a parent VHD).
/// </summary>
/// <remarks>
/// <para>Crash safety. A block is allocated in four steps: (1) the footer is written at the new end of the file,
/// past the block, and fsynced, so the file always ends in a valid footer; (2) the block's bitmap and data are
/// written where the old footer was (nothing points there yet); (3) fsync; (4) the 512-byte BAT sector holding the
/// block's entry is rewritten. Until (4) is durable the block is an unreferenced gap that a crash leaks but never
/// exposes; after it, the block's data is already on disk. Writes into an allocated block write the data, then the
/// bitmap sector(s) whose bits changed. <see cref="Flush"/> fsyncs. So a crash at any point leaves an image that
/// opens and reads every flushed write.</para>
/// <para>Differencing children are written in 4 KiB groups (one bitmap byte): a write is widened to whole groups
/// with the bytes around it taken from this image or the parent, so every bitmap byte we write is 0x00 or 0xFF.
/// That also gives the read-modify-write a partial sector needs, and sidesteps libvhdi 20210425, which misreads
/// bitmap bytes with only some bits set.</para>
/// <para>Size. Our footers say creator 'qem2': qemu (block/vpc.c, 7.2 and later) takes the size from CHS for
/// creators 'vpc ' and 'qemu' and for unknown ones in older releases, and from current_size for 'qem2', 'win ',
/// 'd2v ', 'tap', 'CTXS'. 'qem2' is qemu's own marker for "current_size is the size", so qemu, libvhdi and Windows
/// all see exactly <see cref="Length"/>; the CHS geometry is still the spec's (rounded down).</para>
/// </remarks>
public sealed partial class VhdDisk : VirtualDisk
{
    private const int SectorSize = 512;
    private const uint Unallocated = 0xFFFFFFFF;

    /// <summary>Our block size bounds: 4 KiB so that one bitmap byte is a whole number of sectors we write as a group;
    /// 256 MiB, VHDX's maximum, far above what Windows (2 MiB, 512 KiB) or qemu (2 MiB) make.</summary>
    private const int MinBlockSize = 4096;
    private const int MaxBlockSize = 256 * 1024 * 1024;

    /// <summary>Bitmaps kept in memory: 64 blocks (32 KiB for 2 MiB blocks, 4 MiB at most for 256 MiB ones).</summary>
    private const int BitmapCacheCapacity = 64;

    private readonly IImageFile file;
    private readonly VhdFooter footer;
    private readonly VhdDynamicHeader? header;
    private readonly byte[] footerBytes;
    private readonly uint[] bat;
    private readonly int blockSize;
    private readonly int bitmapSize;
    private readonly VirtualDisk? parent;
    private readonly Dictionary<int, (byte[] Bits, long Used)> bitmaps = [];
    private long bitmapClock;

    /// <summary>Where the next block goes: the offset of the trailing footer, or past everything when it is lost.</summary>
    private long nextFree;

    private bool failed;

    private VhdDisk(IImageFile file, VhdFooter footer, byte[] footerBytes, VhdDynamicHeader? header, uint[] bat,
        long nextFree, VirtualDisk? parent)
    {
        this.file = file;
        this.footer = footer;
        this.footerBytes = footerBytes;
        this.header = header;
        this.bat = bat;
        this.nextFree = nextFree;
        this.parent = parent;
        Length = (long)footer.CurrentSize;
        if (header is not null)
        {
            blockSize = (int)header.BlockSize;
            bitmapSize = BitmapBytes(blockSize);
        }
    }

    public override DiskFormat Format => DiskFormat.Vhd;

    public override DiskKind Kind => footer.DiskType switch
    {
        VhdDiskType.Fixed => DiskKind.Fixed,
        VhdDiskType.Dynamic => DiskKind.Dynamic,
        _ => DiskKind.Differencing,
    };

    public override long Length { get; }
    public override int LogicalSectorSize => SectorSize;
    public override int PhysicalSectorSize => SectorSize;
    public override bool CanWrite => file.CanWrite;
    public override string Path => file.Path;
    public override VirtualDisk? Parent => parent;

    /// <summary>The footer's unique id, which a child records as its parent's identity.</summary>
    internal ReadOnlySpan<byte> UniqueId => footer.UniqueId;

    internal uint TimeStamp => footer.TimeStamp;

    /// <summary>Bytes of a block's sector bitmap: one bit per sector, padded to whole sectors (spec).</summary>
    private static int BitmapBytes(int blockSize) => (blockSize / SectorSize / 8 + SectorSize - 1) / SectorSize * SectorSize;

    private static long RoundUp(long value, long unit) => (value + unit - 1) / unit * unit;

    private long BlockCount => bat.Length;

    // ---------------------------------------------------------------------------------------------- reads

    public override void Read(long offset, Span<byte> buffer)
    {
        CheckRange(offset, buffer.Length);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (footer.DiskType == VhdDiskType.Fixed)
        {
            ReadFile(offset, buffer);
            return;
        }
        while (!buffer.IsEmpty)
        {
            var block = (int)(offset / blockSize);
            var within = (int)(offset % blockSize);
            var n = Math.Min(buffer.Length, blockSize - within);
            ReadBlock(block, within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>Reads bytes of one block: present sectors from this file, absent ones as zeros or from the parent.</summary>
    private void ReadBlock(int block, int within, Span<byte> destination)
    {
        var virtualStart = (long)block * blockSize;
        var entry = bat[block];
        if (entry == Unallocated)
        {
            ReadAbsent(virtualStart + within, destination);
            return;
        }
        var bits = GetBitmap(block);
        var dataStart = (long)entry * SectorSize + bitmapSize;
        var position = 0;
        while (position < destination.Length)
        {
            var sector = (within + position) / SectorSize;
            var present = IsSet(bits, sector);
            var runEnd = position;
            while (runEnd < destination.Length && IsSet(bits, (within + runEnd) / SectorSize) == present)
                runEnd = Math.Min(destination.Length, ((within + runEnd) / SectorSize + 1) * SectorSize - within);
            var run = destination[position..runEnd];
            if (present)
                ReadFile(dataStart + within + position, run);
            else
                ReadAbsent(virtualStart + within + position, run);
            position = runEnd;
        }
    }

    private void ReadAbsent(long virtualOffset, Span<byte> destination)
    {
        if (parent is null)
            destination.Clear();
        else
            parent.Read(virtualOffset, destination);
    }

    private void ReadFile(long fileOffset, Span<byte> destination)
    {
        var read = file.ReadAt(fileOffset, destination);
        if (read < destination.Length)
        {
            // Open checked that every block lies inside the file; only a truncation under us gets here.
            failed = true;
            throw new DiskFormatException(Path,
                $"the image is truncated: {destination.Length} bytes wanted, {read} remain (was the file cut while open?)",
                fileOffset + read);
        }
    }

    private static bool IsSet(byte[] bits, int sector) => (bits[sector >> 3] & (0x80 >> (sector & 7))) != 0;

    /// <summary>A block's bitmap, from a small cache (least recently used out); bitmaps are written through, so an
    /// evicted one needs no write.</summary>
    /// <remarks>Locked: concurrent readers share the cache (the contract allows parallel reads without a writer).
    /// A bitmap is only changed in place by the single writer, which no reader runs beside.</remarks>
    private byte[] GetBitmap(int block)
    {
        lock (bitmaps)
        {
            if (bitmaps.TryGetValue(block, out var cached))
            {
                bitmaps[block] = (cached.Bits, ++bitmapClock);
                return cached.Bits;
            }
        }
        var bits = new byte[bitmapSize];
        ReadFile((long)bat[block] * SectorSize, bits);
        Remember(block, bits);
        return bits;
    }

    private void Remember(int block, byte[] bits)
    {
        lock (bitmaps)
            RememberLocked(block, bits);
    }

    private void RememberLocked(int block, byte[] bits)
    {
        if (bitmaps.Count >= BitmapCacheCapacity && !bitmaps.ContainsKey(block))
        {
            var oldest = -1;
            var oldestUse = long.MaxValue;
            foreach (var (key, value) in bitmaps)
            {
                if (value.Used < oldestUse)
                {
                    oldest = key;
                    oldestUse = value.Used;
                }
            }
            bitmaps.Remove(oldest);
        }
        bitmaps[block] = (bits, ++bitmapClock);
    }

    // ------------------------------------------------------------------------------------- allocation map

    public override IEnumerable<(long Offset, long Length)> GetAllocatedRanges()
    {
        if (footer.DiskType == VhdDiskType.Fixed)
        {
            yield return (0, Length);
            yield break;
        }
        long runStart = -1, runEnd = -1;
        for (var block = 0; block < bat.Length; block++)
        {
            if (bat[block] == Unallocated)
                continue;
            var blockStart = (long)block * blockSize;
            var sectors = (int)Math.Min(blockSize, Length - blockStart) / SectorSize;
            if (footer.DiskType == VhdDiskType.Dynamic)
            {
                if (blockStart != runEnd)
                {
                    if (runStart >= 0)
                        yield return (runStart, runEnd - runStart);
                    runStart = blockStart;
                }
                runEnd = blockStart + (long)sectors * SectorSize;
                continue;
            }
            var bits = GetBitmap(block);
            for (var sector = 0; sector < sectors; sector++)
            {
                if (!IsSet(bits, sector))
                    continue;
                var start = blockStart + (long)sector * SectorSize;
                if (start != runEnd)
                {
                    if (runStart >= 0)
                        yield return (runStart, runEnd - runStart);
                    runStart = start;
                }
                runEnd = start + SectorSize;
            }
        }
        if (runStart >= 0)
            yield return (runStart, runEnd - runStart);
    }

    public override DiskAllocation GetAllocation()
    {
        if (footer.DiskType == VhdDiskType.Fixed)
            return new DiskAllocation(Length, file.Length, 0, 0, 0);
        long allocated = 0;
        foreach (var entry in bat)
        {
            if (entry != Unallocated)
                allocated++;
        }
        return new DiskAllocation(Length, file.Length, blockSize, bat.Length, allocated);
    }

    private bool disposed;

    protected override void Dispose(bool disposing)
    {
        if (!disposing || disposed)
            return;
        disposed = true;
        file.Dispose();
        parent?.Dispose();
    }
}
