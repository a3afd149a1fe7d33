namespace PxeKit.Formats.Disks;

/// <summary>
/// A virtual block device backed by a disk image (raw, VHD or VHDX) and, for a differencing image, its chain of
/// parents. Every format implements this one contract, so the iSCSI target and `pxekit disk` never care which
/// format a disk is.
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item>Reads and writes take any offset and length inside <see cref="Length"/> (not only whole sectors); a range
/// that leaves the disk throws <see cref="ArgumentOutOfRangeException"/>.</item>
/// <item>A write is visible to the next read at once; it is durable only after <see cref="Flush"/> returns.
/// Writes that allocate are ordered so that a crash at any moment leaves an image that opens and holds every
/// write flushed before the crash (the formats' files say how).</item>
/// <item>Parents are opened read-only and are never written, whatever is done to the child.</item>
/// <item>Instances are not thread-safe for writes; callers serialise (the iSCSI target holds one writer per
/// disk). Concurrent reads of a disk that is not being written are safe.</item>
/// </list>
/// </remarks>
public abstract class VirtualDisk : IDisposable
{
    /// <summary>The format of this image file (not of its parents).</summary>
    public abstract DiskFormat Format { get; }

    /// <summary>The kind of this image file: fixed, dynamic or differencing.</summary>
    public abstract DiskKind Kind { get; }

    /// <summary>Size of the virtual disk in bytes (what a guest sees).</summary>
    public abstract long Length { get; }

    /// <summary>Logical sector size in bytes: 512 (VHD, raw) or 512/4096 (VHDX metadata).</summary>
    public abstract int LogicalSectorSize { get; }

    /// <summary>Physical sector size in bytes (4096 for a 512e VHDX).</summary>
    public abstract int PhysicalSectorSize { get; }

    /// <summary>False when the image was opened read-only (parents always are).</summary>
    public abstract bool CanWrite { get; }

    /// <summary>The path this image was opened from.</summary>
    public abstract string Path { get; }

    /// <summary>The parent of a differencing image, opened read-only; null for fixed, dynamic and raw images.</summary>
    public abstract VirtualDisk? Parent { get; }

    /// <summary>Reads <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>. Unallocated ranges read
    /// as zeros (dynamic) or from the parent (differencing).</summary>
    public abstract void Read(long offset, Span<byte> buffer);

    /// <summary>Writes <paramref name="buffer"/> at <paramref name="offset"/>, allocating blocks as needed.</summary>
    public abstract void Write(long offset, ReadOnlySpan<byte> buffer);

    /// <summary>Makes every write so far durable (data, then the metadata that points at it) with fsync.</summary>
    public abstract void Flush();

    /// <summary>
    /// The byte ranges of the virtual disk whose data this file itself holds, ascending and not overlapping: every
    /// range for raw and fixed images, allocated blocks for dynamic ones, present sectors for differencing ones.
    /// `pxekit disk merge` copies exactly these into the parent; `convert` skips what is not listed.
    /// </summary>
    public abstract IEnumerable<(long Offset, long Length)> GetAllocatedRanges();

    /// <summary>What this image file holds, for `pxekit disk info`.</summary>
    public abstract DiskAllocation GetAllocation();

    /// <summary>Consistency problems of this image file (not its parents); empty when it is sound.</summary>
    public abstract IReadOnlyList<string> Check();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the file handle and disposes the parent chain.</summary>
    protected abstract void Dispose(bool disposing);

    /// <summary>Throws unless [offset, offset+count) lies within the disk; one check for every format.</summary>
    protected void CheckRange(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset > Length - count)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"{count} bytes at offset {offset} leave the {Length}-byte disk");
    }
}

public enum DiskFormat { Raw, Vhd, Vhdx }

public enum DiskKind { Fixed, Dynamic, Differencing }

/// <summary>
/// How much of the virtual disk this one file holds. <see cref="BlockSize"/> is 0 for raw and fixed images, whose
/// every byte is allocated.
/// </summary>
public sealed record DiskAllocation(long VirtualSize, long FileSize, long BlockSize, long TotalBlocks, long AllocatedBlocks);
