
namespace PxeKit.Formats.Disks;

/// <summary>What a new image is made of: its format, size and, for VHD/VHDX, whether every block is allocated
/// up front (fixed) or on first write (dynamic).</summary>
public sealed record DiskCreateOptions(DiskFormat Format, long Size, bool Fixed = false)
{
    /// <summary>VHDX payload block size; 0 = the format's default (32 MiB, as Hyper-V makes them).</summary>
    public int VhdxBlockSize { get; init; }

    /// <summary>VHD block size; 0 = the format's default (2 MiB).</summary>
    public int VhdBlockSize { get; init; }

    /// <summary>VHDX logical sector size, 512 (default) or 4096.</summary>
    public int LogicalSectorSize { get; init; } = 512;
}

/// <summary>How an image and its parents are opened.</summary>
public sealed record DiskOpenOptions
{
    public static DiskOpenOptions ReadOnly { get; } = new();

    public static DiskOpenOptions ReadWrite { get; } = new() { Writable = true };

    /// <summary>Open the image itself for writing; its parents are always read-only.</summary>
    public bool Writable { get; init; }

    public IImageFileSystem FileSystem { get; init; } = LocalImageFileSystem.Instance;

    /// <summary>A chain longer than this is refused: a guard against absurd or looping chains.</summary>
    public int MaxChainDepth { get; init; } = 64;

    /// <summary>Check each parent's identity (VHD unique id, VHDX DataWriteGuid) against the child's link.</summary>
    public bool CheckParentIdentity { get; init; } = true;
}

/// <summary>
/// The entry point for disk images: probes the format of a file and opens, creates or derives images. Formats are
/// told apart by signature, never by file name: `vhdxfile` at offset 0 is VHDX, `conectix` in the last 512 bytes
/// (or, for a dynamic VHD whose footer was lost, at 0) is VHD, anything else is raw.
/// </summary>
public static class DiskImage
{
    public static DiskFormat Probe(IImageFile file)
    {
        Span<byte> head = stackalloc byte[8];
        if (file.ReadAt(0, head) == 8 && head.SequenceEqual("vhdxfile"u8))
            return DiskFormat.Vhdx;
        if (file.Length >= 512)
        {
            if (file.ReadAt(file.Length - 512, head) == 8 && head.SequenceEqual("conectix"u8))
                return DiskFormat.Vhd;
            // qemu's and Windows' old fixed VHDs may end in a 511-byte footer (spec: "older versions").
            if (file.ReadAt(file.Length - 511, head) == 8 && head.SequenceEqual("conectix"u8))
                return DiskFormat.Vhd;
        }
        if (file.ReadAt(0, head) == 8 && head.SequenceEqual("conectix"u8))
            return DiskFormat.Vhd;
        return DiskFormat.Raw;
    }

    public static DiskFormat Probe(string path, IImageFileSystem? fileSystem = null)
    {
        using var file = (fileSystem ?? LocalImageFileSystem.Instance).Open(path, writable: false);
        return Probe(file);
    }

    /// <summary>Opens an image of any format, with its whole parent chain.</summary>
    public static VirtualDisk Open(string path, DiskOpenOptions? options = null) =>
        Open(path, options ?? DiskOpenOptions.ReadOnly, depth: 0, []);

    /// <summary>Opens a parent named by a child: read-only, loop- and depth-checked.</summary>
    internal static VirtualDisk OpenParent(string parentPath, DiskOpenOptions options, int depth, IReadOnlyList<string> chain) =>
        Open(parentPath, options with { Writable = false }, depth, chain);

    private static VirtualDisk Open(string path, DiskOpenOptions options, int depth, IReadOnlyList<string> chain)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (depth > options.MaxChainDepth)
            throw new DiskFormatException(fullPath, $"the parent chain is deeper than {options.MaxChainDepth} images");
        foreach (var seen in chain)
        {
            if (string.Equals(seen, fullPath, StringComparison.Ordinal))
                throw new DiskFormatException(fullPath, $"parent loop: {string.Join(" -> ", chain)} -> {fullPath}");
        }
        if (!options.FileSystem.Exists(fullPath))
            throw new FileNotFoundException($"{fullPath}: no such image", fullPath);

        var file = options.FileSystem.Open(fullPath, options.Writable);
        try
        {
            var nextChain = new List<string>(chain) { fullPath };
            return Probe(file) switch
            {
                DiskFormat.Vhdx => Vhdx.VhdxDisk.Open(file, options, depth, nextChain),
                DiskFormat.Vhd => Vhd.VhdDisk.Open(file, options, depth, nextChain),
                _ => RawDisk.Open(file),
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Creates a new, empty image; refuses to overwrite an existing file.</summary>
    public static VirtualDisk Create(string path, DiskCreateOptions create, IImageFileSystem? fileSystem = null)
    {
        fileSystem ??= LocalImageFileSystem.Instance;
        if (create.Size <= 0)
            throw new ArgumentOutOfRangeException(nameof(create), $"a disk needs a positive size, not {create.Size}");
        if (fileSystem.Exists(path))
            throw new IOException($"{System.IO.Path.GetFullPath(path)} already exists; pxekit never overwrites an image");
        return create.Format switch
        {
            DiskFormat.Vhdx => Vhdx.VhdxDisk.Create(fileSystem, path, create),
            DiskFormat.Vhd => Vhd.VhdDisk.Create(fileSystem, path, create),
            _ => RawDisk.Create(fileSystem, path, create.Size),
        };
    }

    /// <summary>
    /// Creates an empty differencing child of <paramref name="parentPath"/> in the parent's format (a VHD child of a
    /// VHD, a VHDX child of a VHDX: neither format links to the other). A raw parent cannot have a child.
    /// </summary>
    public static VirtualDisk CreateChild(string parentPath, string childPath, IImageFileSystem? fileSystem = null)
    {
        fileSystem ??= LocalImageFileSystem.Instance;
        if (fileSystem.Exists(childPath))
            throw new IOException($"{System.IO.Path.GetFullPath(childPath)} already exists; pxekit never overwrites an image");
        var options = DiskOpenOptions.ReadOnly with { FileSystem = fileSystem };
        var parent = Open(parentPath, options);
        try
        {
            return parent.Format switch
            {
                DiskFormat.Vhdx => Vhdx.VhdxDisk.CreateChild(fileSystem, childPath, parent, options),
                DiskFormat.Vhd => Vhd.VhdDisk.CreateChild(fileSystem, childPath, parent, options),
                _ => throw new DiskFormatException(parent.Path,
                    "a raw image cannot be a parent: convert it to VHD or VHDX first (pxekit disk convert)"),
            };
        }
        catch
        {
            parent.Dispose();
            throw;
        }
    }

}
