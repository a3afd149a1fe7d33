using System.Buffers;
using System.Buffers.Binary;

namespace PxeKit.Formats.Disks.Vhd;

public sealed partial class VhdDisk
{
    /// <summary>A differencing child is written in groups of 8 sectors, one bitmap byte (see the class remarks).</summary>
    private const int DifferencingGroup = 4096;

    /// <summary>A write is done in pieces of at most 1 MiB, so a huge write never rents a huge buffer.</summary>
    private const int MaxSegment = 1024 * 1024;

    public override void Write(long offset, ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!file.CanWrite)
            throw new InvalidOperationException($"{Path} is open read-only");
        if (failed)
            throw new InvalidOperationException($"{Path}: an earlier read found the image damaged; it is not written any more");
        CheckRange(offset, buffer.Length);
        if (footer.DiskType == VhdDiskType.Fixed)
        {
            file.WriteAt(offset, buffer);
            return;
        }
        while (!buffer.IsEmpty)
        {
            var block = (int)(offset / blockSize);
            var within = (int)(offset % blockSize);
            var n = Math.Min(Math.Min(buffer.Length, blockSize - within), MaxSegment);
            WriteBlock(block, within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    private void WriteBlock(int block, int within, ReadOnlySpan<byte> data)
    {
        var group = parent is null ? SectorSize : DifferencingGroup;
        var blockStart = (long)block * blockSize;
        var limit = (int)Math.Min(blockSize, Length - blockStart);
        var start = within / group * group;
        var end = Math.Min(limit, (within + data.Length + group - 1) / group * group);
        var length = end - start;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            // Widen to whole groups: the bytes around the write come from this image (present sectors) or from the
            // parent / zeros (absent ones), which is also the read-modify-write of a partial sector.
            var merged = rented.AsSpan(0, length);
            if (within > start)
                ReadBlock(block, start, merged[..(within - start)]);
            var tail = within + data.Length;
            if (tail < end)
                ReadBlock(block, tail, merged[(tail - start)..]);
            data.CopyTo(merged[(within - start)..]);

            if (bat[block] == Unallocated)
            {
                AllocateBlock(block, start, merged);
                return;
            }
            file.WriteAt((long)bat[block] * SectorSize + bitmapSize + start, merged);
            SetBits(block, start / SectorSize, (length + SectorSize - 1) / SectorSize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Marks sectors present and writes the bitmap sector(s) whose bits changed (whole 512-byte sectors).</summary>
    private void SetBits(int block, int firstSector, int count)
    {
        var bits = GetBitmap(block);
        int firstByte = -1, lastByte = -1;
        for (var sector = firstSector; sector < firstSector + count; sector++)
        {
            var mask = 0x80 >> (sector & 7);
            if ((bits[sector >> 3] & mask) != 0)
                continue;
            bits[sector >> 3] |= (byte)mask;
            if (firstByte < 0)
                firstByte = sector >> 3;
            lastByte = sector >> 3;
        }
        if (firstByte < 0)
            return;
        var from = firstByte / SectorSize * SectorSize;
        var to = Math.Min(bitmapSize, (lastByte / SectorSize + 1) * SectorSize);
        try
        {
            file.WriteAt((long)bat[block] * SectorSize + from, bits.AsSpan(from, to - from));
        }
        catch
        {
            // The cached bits are ahead of the file now; forget them so the next read sees what is on disk.
            lock (bitmaps)
                bitmaps.Remove(block);
            throw;
        }
    }

    /// <summary>
    /// Allocates a block where the trailing footer is, in the order the class remarks give: footer further out and
    /// fsync; bitmap and data; fsync; BAT sector. The in-memory BAT changes only when all of it succeeded, so a
    /// failure (ENOSPC) leaves no entry pointing at unwritten data and the next attempt reuses the same place.
    /// </summary>
    private void AllocateBlock(int block, int start, ReadOnlySpan<byte> data)
    {
        var blockOffset = nextFree;
        var total = bitmapSize + (long)blockSize;
        if (blockOffset / SectorSize >= Unallocated)
            throw new IOException($"{Path}: the image file cannot grow past 2 TiB (VHD BAT entries are 32-bit sector numbers)");

        var bits = new byte[bitmapSize];
        if (parent is null)
        {
            // Dynamic: every sector of the block is "here"; the ones not written are the file's zeros (qemu does the same).
            bits.AsSpan().Fill(0xFF);
        }
        else
        {
            var last = (start + data.Length + SectorSize - 1) / SectorSize;
            for (var sector = start / SectorSize; sector < last; sector++)
                bits[sector >> 3] |= (byte)(0x80 >> (sector & 7));
        }

        file.WriteAt(blockOffset + total, footerBytes);
        file.Flush();
        file.WriteAt(blockOffset, bits);
        file.WriteAt(blockOffset + bitmapSize + start, data);
        file.Flush();

        var entryOffset = (long)header!.TableOffset + block * 4L;
        var sectorOffset = entryOffset / SectorSize * SectorSize;
        Span<byte> sector512 = stackalloc byte[SectorSize];
        ReadFile(sectorOffset, sector512);
        BinaryPrimitives.WriteUInt32BigEndian(sector512[(int)(entryOffset - sectorOffset)..], (uint)(blockOffset / SectorSize));
        file.WriteAt(sectorOffset, sector512);

        bat[block] = (uint)(blockOffset / SectorSize);
        nextFree = blockOffset + total;
        Remember(block, bits);
    }

    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (file.CanWrite)
            file.Flush();
    }
}
