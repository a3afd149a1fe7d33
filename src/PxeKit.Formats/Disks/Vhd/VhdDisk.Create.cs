using System.Text;

namespace PxeKit.Formats.Disks.Vhd;

public sealed partial class VhdDisk
{
    /// <summary>qemu's marker for "current_size is the disk size" (see the class remarks).</summary>
    private static uint CreatorApplication => VhdFooter.FourCc("qem2"u8);

    private static uint CreatorHostOs => VhdFooter.FourCc("Wi2k"u8);

    /// <summary>Creator version 1.0; the field identifies the creator's release, not the format.</summary>
    private const uint CreatorVersion = 0x00010000;

    /// <summary>Where the dynamic header and BAT go, as Windows, qemu and DiscUtils place them.</summary>
    private const long HeaderOffset = 512;
    private const long TableOffset = HeaderOffset + VhdDynamicHeader.Size;

    internal static VirtualDisk Create(IImageFileSystem fileSystem, string path, DiskCreateOptions create)
    {
        var size = create.Size;
        if (size % SectorSize != 0 || size > VhdFooter.MaxDiskSize)
            throw new ArgumentOutOfRangeException(nameof(create),
                $"a VHD is whole 512-byte sectors up to 2040 GiB; {size} bytes is not");
        var blockSize = create.VhdBlockSize == 0 ? (int)VhdDynamicHeader.DefaultBlockSize : create.VhdBlockSize;
        if (!create.Fixed && (blockSize < MinBlockSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0))
            throw new ArgumentOutOfRangeException(nameof(create),
                $"a VHD block size is a power of two from 4 KiB to 256 MiB; {blockSize} is not");

        if (!create.Fixed && (size + blockSize - 1) / blockSize > VhdLayout.MaxBatEntries)
            throw new ArgumentOutOfRangeException(nameof(create),
                $"{size} bytes in {blockSize}-byte blocks needs more than {VhdLayout.MaxBatEntries} BAT entries; use larger blocks");
        var (cylinders, heads, sectorsPerTrack) = VhdFooter.ComputeGeometry(size);
        var footer = new VhdFooter
        {
            DataOffset = create.Fixed ? VhdFooter.NoDataOffset : (ulong)HeaderOffset,
            TimeStamp = VhdFooter.ToVhdTime(TimeProvider.System.GetUtcNow()),
            CreatorApplication = CreatorApplication,
            CreatorVersion = CreatorVersion,
            CreatorHostOs = CreatorHostOs,
            OriginalSize = (ulong)size,
            CurrentSize = (ulong)size,
            Cylinders = cylinders,
            Heads = heads,
            SectorsPerTrack = sectorsPerTrack,
            DiskType = create.Fixed ? VhdDiskType.Fixed : VhdDiskType.Dynamic,
            UniqueId = Guid.NewGuid().ToByteArray(),
        };
        var footerBytes = new byte[VhdFooter.Size];
        footer.WriteTo(footerBytes);

        var file = fileSystem.Create(path);
        try
        {
            if (create.Fixed)
            {
                // Sparse: the data area is a hole until written, as for raw images.
                file.SetLength(size);
                file.WriteAt(size, footerBytes);
                file.Flush();
                return new VhdDisk(file, footer, footerBytes, null, [], size, null);
            }
            var header = new VhdDynamicHeader
            {
                TableOffset = (ulong)TableOffset,
                MaxTableEntries = checked((uint)((size + blockSize - 1) / blockSize)),
                BlockSize = (uint)blockSize,
            };
            return WriteSparseLayout(file, footer, footerBytes, header, [], null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    internal static VirtualDisk CreateChild(IImageFileSystem fileSystem, string path, VirtualDisk parent, DiskOpenOptions options)
    {
        if (parent is not VhdDisk vhd)
            throw new DiskFormatException(parent.Path, "a VHD child needs a VHD parent");
        var childPath = System.IO.Path.GetFullPath(path);
        var parentPath = vhd.Path;
        var blockSize = vhd.header?.BlockSize ?? VhdDynamicHeader.DefaultBlockSize;

        var footer = new VhdFooter
        {
            DataOffset = (ulong)HeaderOffset,
            TimeStamp = VhdFooter.ToVhdTime(TimeProvider.System.GetUtcNow()),
            CreatorApplication = CreatorApplication,
            CreatorVersion = CreatorVersion,
            CreatorHostOs = CreatorHostOs,
            // Spec: a differencing disk has its parent's size and geometry.
            OriginalSize = vhd.footer.OriginalSize,
            CurrentSize = vhd.footer.CurrentSize,
            Cylinders = vhd.footer.Cylinders,
            Heads = vhd.footer.Heads,
            SectorsPerTrack = vhd.footer.SectorsPerTrack,
            DiskType = VhdDiskType.Differencing,
            UniqueId = Guid.NewGuid().ToByteArray(),
        };
        var footerBytes = new byte[VhdFooter.Size];
        footer.WriteTo(footerBytes);

        var relative = System.IO.Path.GetRelativePath(System.IO.Path.GetDirectoryName(childPath)!, parentPath).Replace('/', '\\');
        if (!relative.StartsWith("..", StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(relative))
            relative = ".\\" + relative;
        var locatorData = new[]
        {
            (ParentLocator.W2ku, Encoding.Unicode.GetBytes(parentPath)),
            (ParentLocator.W2ru, Encoding.Unicode.GetBytes(relative)),
        };

        // Windows compares the parent's modification time with this; a local parent gives its real one, anything
        // else (tests in memory) the time stamp of its footer. Only the unique id is checked on open.
        var parentTime = File.Exists(parentPath)
            ? VhdFooter.ToVhdTime(new DateTimeOffset(File.GetLastWriteTimeUtc(parentPath), TimeSpan.Zero))
            : vhd.TimeStamp;
        var header = new VhdDynamicHeader
        {
            TableOffset = (ulong)TableOffset,
            MaxTableEntries = checked((uint)(((long)vhd.footer.CurrentSize + blockSize - 1) / blockSize)),
            BlockSize = blockSize,
            ParentUniqueId = vhd.footer.UniqueId.ToArray(),
            ParentTimeStamp = parentTime,
            ParentUnicodeName = System.IO.Path.GetFileName(parentPath),
        };

        var file = fileSystem.Create(childPath);
        try
        {
            return WriteSparseLayout(file, footer, footerBytes, header, locatorData, parent);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Lays out a new dynamic or differencing image: footer copy, header, an empty BAT, the parent locators' data
    /// (each in whole sectors), then the footer where the first block will go.
    /// </summary>
    private static VhdDisk WriteSparseLayout(IImageFile file, VhdFooter footer, byte[] footerBytes, VhdDynamicHeader header,
        (uint Code, byte[] Data)[] locatorData, VirtualDisk? parent)
    {
        var batBytes = RoundUp(header.MaxTableEntries * 4L, SectorSize);
        var position = TableOffset + batBytes;
        var locators = new ParentLocator[VhdDynamicHeader.LocatorCount];
        for (var i = 0; i < locatorData.Length; i++)
        {
            var (code, data) = locatorData[i];
            var space = RoundUp(Math.Max(data.Length, 1), SectorSize);
            locators[i] = new ParentLocator(code, (uint)space, (uint)data.Length, (ulong)position);
            file.WriteAt(position, data);
            position += space;
        }
        header = header with { Locators = locators };

        var empty = new byte[Math.Min(batBytes, 65536)];
        empty.AsSpan().Fill(0xFF);
        for (long done = 0; done < batBytes; done += empty.Length)
            file.WriteAt(TableOffset + done, empty.AsSpan(0, (int)Math.Min(empty.Length, batBytes - done)));

        var headerBytes = new byte[VhdDynamicHeader.Size];
        header.WriteTo(headerBytes);
        file.WriteAt(HeaderOffset, headerBytes);
        file.WriteAt(0, footerBytes);
        file.WriteAt(position, footerBytes);
        file.Flush();

        var bat = new uint[(long)((footer.CurrentSize + header.BlockSize - 1) / header.BlockSize)];
        bat.AsSpan().Fill(Unallocated);
        return new VhdDisk(file, footer, footerBytes, header, bat, position, parent);
    }
}
