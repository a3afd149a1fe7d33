namespace PxeKit.Formats.Disks;

/// <summary>
/// A raw image: the file is the disk, byte for byte. Created sparse (SetLength), so a new 40 GiB raw image costs no
/// space until written. Its size is the file's length rounded down to whole 512-byte sectors; a trailing partial
/// sector is refused rather than silently hidden.
/// </summary>
public sealed class RawDisk : VirtualDisk
{
    private const int SectorSize = 512;
    private readonly IImageFile file;

    private RawDisk(IImageFile file, long length)
    {
        this.file = file;
        Length = length;
    }

    public override DiskFormat Format => DiskFormat.Raw;
    public override DiskKind Kind => DiskKind.Fixed;
    public override long Length { get; }
    public override int LogicalSectorSize => SectorSize;
    public override int PhysicalSectorSize => SectorSize;
    public override bool CanWrite => file.CanWrite;
    public override string Path => file.Path;
    public override VirtualDisk? Parent => null;

    internal static VirtualDisk Open(IImageFile file)
    {
        var length = file.Length;
        if (length == 0)
            throw new DiskFormatException(file.Path, "the file is empty: not a disk image");
        if (length % SectorSize != 0)
            throw new DiskFormatException(file.Path,
                $"{length} bytes is not a whole number of 512-byte sectors: not a raw disk image (a truncated copy?)");
        return new RawDisk(file, length);
    }

    internal static VirtualDisk Create(IImageFileSystem fileSystem, string path, long size)
    {
        if (size % SectorSize != 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"a raw disk is whole 512-byte sectors; {size} is not");
        var file = fileSystem.Create(path);
        try
        {
            file.SetLength(size);
            file.Flush();
            return new RawDisk(file, size);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override void Read(long offset, Span<byte> buffer)
    {
        CheckRange(offset, buffer.Length);
        var read = file.ReadAt(offset, buffer);
        // The file can only be shorter than Length if something truncated it under us; the rest reads as zeros.
        buffer[read..].Clear();
    }

    public override void Write(long offset, ReadOnlySpan<byte> buffer)
    {
        if (!file.CanWrite)
            throw new InvalidOperationException($"{Path} is open read-only");
        CheckRange(offset, buffer.Length);
        file.WriteAt(offset, buffer);
    }

    public override void Flush()
    {
        if (file.CanWrite)
            file.Flush();
    }

    public override IEnumerable<(long Offset, long Length)> GetAllocatedRanges()
    {
        yield return (0, Length);
    }

    public override DiskAllocation GetAllocation() => new(Length, file.Length, 0, 0, 0);

    public override IReadOnlyList<string> Check() => [];

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            file.Dispose();
    }
}
