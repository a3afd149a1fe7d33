using System.Buffers;

namespace PxeKit.Formats.Disks;

/// <summary>
/// Whole-image operations built on the <see cref="VirtualDisk"/> contract, format-blind: convert (flatten a chain
/// into a new image), merge (commit a child into its parent) and reset (empty a child). `pxekit disk` runs them and
/// the iSCSI target resets per-client children with them. Each one is written so that an interruption loses nothing:
/// new images are built under a temporary name and renamed into place, and a child is only emptied after its data
/// is durable in the parent.
/// </summary>
public static class DiskOperations
{
    /// <summary>Bytes moved per read/write: large enough for sequential speed, small enough to stay off the LOH churn.</summary>
    private const int CopyChunk = 1024 * 1024;

    /// <summary>
    /// Writes the disk <paramref name="inputPath"/> shows (through its whole chain) into a new image at
    /// <paramref name="outputPath"/>. Only ranges some layer of the chain holds are read, and all-zero chunks are not
    /// written, so a dynamic output stays as small as the data. Refuses to overwrite an existing file.
    /// </summary>
    public static void Convert(string inputPath, string outputPath, DiskCreateOptions create, IImageFileSystem? fileSystem = null)
    {
        fileSystem ??= LocalImageFileSystem.Instance;
        var finalPath = Path.GetFullPath(outputPath);
        if (fileSystem.Exists(finalPath))
            throw new IOException($"{finalPath} already exists; pxekit never overwrites an image");
        using var input = DiskImage.Open(inputPath, DiskOpenOptions.ReadOnly with { FileSystem = fileSystem });
        if (create.Size != 0 && create.Size != input.Length)
            throw new ArgumentException($"convert keeps the size of the disk ({input.Length} bytes)", nameof(create));
        create = create with { Size = input.Length };
        var temporary = TemporaryPathBeside(finalPath);
        try
        {
            using (var output = DiskImage.Create(temporary, create, fileSystem))
            {
                CopyRanges(input, output, ChainRanges(input), skipZeros: true);
                output.Flush();
            }
            MoveIntoPlace(fileSystem, temporary, finalPath, overwrite: false);
        }
        catch
        {
            DeleteQuietly(fileSystem, temporary);
            throw;
        }
    }

    /// <summary>
    /// Commits a differencing child into its parent: every range the child holds is written into the parent and
    /// flushed, then the child is reset to an empty child of the updated parent (its data now lives there). If the
    /// merge is interrupted the child still holds everything, and running it again finishes the job.
    /// </summary>
    /// <returns>The parent's path and how many bytes were written into it.</returns>
    public static (string ParentPath, long BytesMerged) Merge(string childPath, IImageFileSystem? fileSystem = null)
    {
        fileSystem ??= LocalImageFileSystem.Instance;
        string parentPath;
        long merged;
        using (var child = DiskImage.Open(childPath, DiskOpenOptions.ReadOnly with { FileSystem = fileSystem }))
        {
            if (child.Parent is null)
                throw new DiskFormatException(child.Path, $"not a differencing image ({child.Format} {child.Kind}): it has no parent to merge into");
            parentPath = child.Parent.Path;
            using var parent = DiskImage.Open(parentPath, DiskOpenOptions.ReadWrite with { FileSystem = fileSystem });
            merged = CopyRanges(child, parent, child.GetAllocatedRanges(), skipZeros: false);
            parent.Flush();
        }
        Reset(childPath, fileSystem);
        return (parentPath, merged);
    }

    /// <summary>
    /// Makes a differencing child empty again, linked to the same parent: the new child is built beside it and
    /// renamed over it, so a crash leaves either the old child or the new one, never neither.
    /// </summary>
    public static void Reset(string childPath, IImageFileSystem? fileSystem = null)
    {
        fileSystem ??= LocalImageFileSystem.Instance;
        var finalPath = Path.GetFullPath(childPath);
        string parentPath;
        // The identity check is off: resetting is also how a child whose parent was merged into is made valid again.
        using (var child = DiskImage.Open(finalPath, DiskOpenOptions.ReadOnly with { FileSystem = fileSystem, CheckParentIdentity = false }))
        {
            if (child.Parent is null)
                throw new DiskFormatException(child.Path, $"not a differencing image ({child.Format} {child.Kind}): only a child can be reset to its parent");
            parentPath = child.Parent.Path;
        }
        var temporary = TemporaryPathBeside(finalPath);
        try
        {
            using (var fresh = DiskImage.CreateChild(parentPath, temporary, fileSystem))
                fresh.Flush();
            MoveIntoPlace(fileSystem, temporary, finalPath, overwrite: true);
        }
        catch
        {
            DeleteQuietly(fileSystem, temporary);
            throw;
        }
    }

    /// <summary>The union of the ranges each layer of the chain holds, ascending and merged.</summary>
    public static IReadOnlyList<(long Offset, long Length)> ChainRanges(VirtualDisk disk)
    {
        var all = new List<(long Offset, long Length)>();
        for (var layer = disk; layer is not null; layer = layer.Parent)
            all.AddRange(layer.GetAllocatedRanges());
        all.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var merged = new List<(long Offset, long Length)>();
        foreach (var (offset, length) in all)
        {
            if (length <= 0)
                continue;
            if (merged.Count > 0 && offset <= merged[^1].Offset + merged[^1].Length)
            {
                var last = merged[^1];
                merged[^1] = (last.Offset, Math.Max(last.Offset + last.Length, offset + length) - last.Offset);
            }
            else
            {
                merged.Add((offset, length));
            }
        }
        return merged;
    }

    private static long CopyRanges(VirtualDisk from, VirtualDisk to, IEnumerable<(long Offset, long Length)> ranges, bool skipZeros)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            long written = 0;
            foreach (var (start, length) in ranges)
            {
                for (var offset = start; offset < start + length;)
                {
                    var count = (int)Math.Min(CopyChunk, start + length - offset);
                    var chunk = buffer.AsSpan(0, count);
                    from.Read(offset, chunk);
                    if (!skipZeros || chunk.ContainsAnyExcept((byte)0))
                    {
                        to.Write(offset, chunk);
                        written += count;
                    }
                    offset += count;
                }
            }
            return written;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string TemporaryPathBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");

    private static void MoveIntoPlace(IImageFileSystem fileSystem, string from, string to, bool overwrite)
    {
        if (fileSystem is LocalImageFileSystem)
            File.Move(from, to, overwrite);
        else if (fileSystem is IMovableImageFileSystem movable)
            movable.Move(from, to, overwrite);
        else
            throw new NotSupportedException($"{fileSystem.GetType().Name} cannot rename images");
    }

    private static void DeleteQuietly(IImageFileSystem fileSystem, string path)
    {
        try
        {
            if (fileSystem is LocalImageFileSystem)
                File.Delete(path);
            else if (fileSystem is IMovableImageFileSystem movable)
                movable.Delete(path);
        }
        catch (IOException)
        {
            // The error that brought us here is the one worth reporting.
        }
    }
}

/// <summary>An image file system that can also rename and delete, as convert, merge and reset need.</summary>
public interface IMovableImageFileSystem : IImageFileSystem
{
    void Move(string from, string to, bool overwrite);

    void Delete(string path);
}
