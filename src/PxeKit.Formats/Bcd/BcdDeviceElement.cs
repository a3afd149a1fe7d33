using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Formats.Bcd;

/// <summary>
/// The value of a device element (REG_BINARY): a 16-byte options object id ({ramdiskoptions} for ramdisks,
/// zero otherwise) followed by a device record (spec §3.1). Decoding is iterative with a depth cap because
/// records nest inside records (hostile-inputs R8); every size is checked against the bytes that remain.
/// </summary>
public sealed record BcdDeviceElement(BcdDevice Device, Guid Options = default)
{
    /// <summary>Deepest nesting we follow; bcdedit's deepest form (vhd=[locate]...) uses 4 levels.</summary>
    public const int MaxNestingDepth = 8;

    private const int OptionsLength = 16;

    /// <summary>Device record header and bodies, offsets relative to the start of a record.</summary>
    private static class Record
    {
        public const int DeviceType = 0x00;
        public const int Flags = 0x04;
        public const int Size = 0x08;
        public const int HeaderSize = 0x10;

        public const uint TypeBlockIo = 0;
        public const uint TypeBoot = 5;
        public const uint TypePartition = 6;
        public const uint TypeLocate = 8;

        /// <summary>Boot and partition records are always 0x48 bytes (the hard-disk identifier is padded to 40).</summary>
        public const int FixedRecordSize = 0x48;

        public const int PartitionId = 0x10;
        public const int PartitionBlockIoType = 0x20;
        public const int PartitionStyle = 0x24;
        public const int DiskId = 0x28;
        public const int PartitionMinimumSize = 0x38;
        public const uint StyleGpt = 0;
        public const uint StyleMbr = 1;

        public const int BlockIoType = 0x10;
        public const uint BlockIoRamdisk = 3;
        public const uint BlockIoFile = 5;
        public const uint BlockIoVirtualDisk = 6;

        /// <summary>Ramdisk: 20 bytes of image base/size/offset filled in at run time, then the file identifier.</summary>
        public const int RamdiskFile = 0x28;
        public const uint RamdiskFlags = 1;
        public const int FileFile = 0x14;

        /// <summary>VHD: 20 bytes of hard-disk identifier (style 0, zero id), then the image's file record.</summary>
        public const int VirtualDiskImage = 0x28;

        public const int LocateKind = 0x10;
        public const int LocateElement = 0x14;
        public const int LocateParentOffset = 0x18;
        public const int LocatePath = 0x1C;
    }

    /// <summary>File identifier inside ramdisk and file records (MS FileIdentifier).</summary>
    private static class FileId
    {
        public const int Version = 0x00;
        public const int Length = 0x04;
        public const int Type = 0x08;
        public const int Parent = 0x0C;
        public const uint CurrentVersion = 1;
        public const uint PathType = 5;
    }

    private enum FrameKind { Ramdisk, File, VirtualDisk, Locate }

    private readonly record struct Frame(FrameKind Kind, int End, int FileIdEnd = 0, BcdLocateKind LocateKind = default, uint LocateElement = 0, string LocatePath = "");

    public static bool TryParse(ReadOnlySpan<byte> data, out BcdDeviceElement? element, out string? error)
    {
        element = null;
        if (data.Length < OptionsLength + Record.HeaderSize)
        {
            error = $"device element is {data.Length} bytes; at least {OptionsLength + Record.HeaderSize} are needed";
            return false;
        }
        var options = new Guid(data[..OptionsLength]);
        var frames = new List<Frame>();
        int start = OptionsLength, limit = data.Length;
        BcdDevice leaf;
        int leafEnd;
        while (true)
        {
            if (frames.Count >= MaxNestingDepth)
            {
                error = $"device records nest deeper than {MaxNestingDepth} levels at 0x{start:x}";
                return false;
            }
            if (limit - start < Record.HeaderSize)
            {
                error = $"device record at 0x{start:x} needs {Record.HeaderSize} bytes, {limit - start} remain";
                return false;
            }
            var record = data[start..limit];
            var type = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.DeviceType..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.Size..]);
            if (size < Record.HeaderSize || size > (uint)record.Length)
            {
                error = $"device record at 0x{start:x} claims {size} bytes, {record.Length} remain";
                return false;
            }
            record = record[..(int)size];
            var end = start + (int)size;

            if (type == Record.TypeBoot)
            {
                (leaf, leafEnd) = (new BcdDevice.Boot(), end);
                break;
            }
            if (type == Record.TypePartition && size >= Record.PartitionMinimumSize)
            {
                var style = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.PartitionStyle..]);
                var partitionId = record.Slice(Record.PartitionId, 16);
                var diskId = record.Slice(Record.DiskId, 16);
                leaf = style switch
                {
                    Record.StyleMbr => new BcdDevice.MbrPartition(BinaryPrimitives.ReadUInt32LittleEndian(diskId), BinaryPrimitives.ReadUInt64LittleEndian(partitionId)),
                    Record.StyleGpt => new BcdDevice.GptPartition(new Guid(diskId), new Guid(partitionId)),
                    _ => new BcdDevice.Raw(record.ToArray()),
                };
                leafEnd = end;
                break;
            }
            if (type == Record.TypeBlockIo && size >= Record.BlockIoType + 4)
            {
                var blockIo = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.BlockIoType..]);
                if (blockIo is Record.BlockIoRamdisk or Record.BlockIoFile)
                {
                    var fileAt = blockIo == Record.BlockIoRamdisk ? Record.RamdiskFile : Record.FileFile;
                    if (size < fileAt + FileId.Parent)
                    {
                        error = $"{(blockIo == Record.BlockIoRamdisk ? "ramdisk" : "file")} record at 0x{start:x} is {size} bytes, too short for its file identifier";
                        return false;
                    }
                    var fileLength = BinaryPrimitives.ReadUInt32LittleEndian(record[(fileAt + FileId.Length)..]);
                    if (fileLength < FileId.Parent + Record.HeaderSize || fileLength > size - (uint)fileAt)
                    {
                        error = $"file identifier at 0x{start + fileAt:x} claims {fileLength} bytes, {size - fileAt} remain in its record";
                        return false;
                    }
                    var fileEnd = start + fileAt + (int)fileLength;
                    frames.Add(new Frame(blockIo == Record.BlockIoRamdisk ? FrameKind.Ramdisk : FrameKind.File, end, fileEnd));
                    (start, limit) = (start + fileAt + FileId.Parent, fileEnd);
                    continue;
                }
                if (blockIo == Record.BlockIoVirtualDisk && size >= Record.VirtualDiskImage + Record.HeaderSize)
                {
                    frames.Add(new Frame(FrameKind.VirtualDisk, end));
                    (start, limit) = (start + Record.VirtualDiskImage, end);
                    continue;
                }
            }
            if (type == Record.TypeLocate && size >= Record.LocatePath + 2)
            {
                var kind = (BcdLocateKind)BinaryPrimitives.ReadUInt32LittleEndian(record[Record.LocateKind..]);
                var elementType = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.LocateElement..]);
                var parentOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[Record.LocateParentOffset..]);
                if (parentOffset != 0 && (parentOffset < Record.LocatePath + 2 || parentOffset > size - Record.HeaderSize))
                {
                    error = $"locate record at 0x{start:x} puts its parent at +0x{parentOffset:x}, outside its {size} bytes";
                    return false;
                }
                var pathEnd = parentOffset == 0 ? (int)size : (int)parentOffset;
                var path = ReadPath(record[Record.LocatePath..pathEnd]);
                if (parentOffset == 0)
                {
                    (leaf, leafEnd) = (new BcdDevice.Locate(kind, elementType, path, null), end);
                    break;
                }
                frames.Add(new Frame(FrameKind.Locate, end, 0, kind, elementType, path));
                (start, limit) = (start + (int)parentOffset, end);
                continue;
            }
            (leaf, leafEnd) = (new BcdDevice.Raw(record.ToArray()), end);
            break;
        }

        // Fold from the innermost record outwards.
        var device = leaf;
        var childEnd = leafEnd;
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            var frame = frames[i];
            device = frame.Kind switch
            {
                FrameKind.Ramdisk => new BcdDevice.Ramdisk(device, ReadPath(data[childEnd..frame.FileIdEnd])),
                FrameKind.File => new BcdDevice.File(device, ReadPath(data[childEnd..frame.FileIdEnd])),
                FrameKind.VirtualDisk => new BcdDevice.VirtualDisk(device),
                _ => new BcdDevice.Locate(frame.LocateKind, frame.LocateElement, frame.LocatePath, device),
            };
            childEnd = frame.End;
        }
        element = new BcdDeviceElement(device, options);
        error = null;
        return true;
    }

    public static BcdDeviceElement Parse(ReadOnlySpan<byte> data) =>
        TryParse(data, out var element, out var error) ? element! : throw new BcdException("bad device element: " + error);

    public int GetEncodedLength() => OptionsLength + RecordLength(Device, 0);

    public void WriteTo(Span<byte> destination)
    {
        var length = GetEncodedLength();
        if (destination.Length < length)
            throw new ArgumentException($"device element needs {length} bytes, the buffer has {destination.Length}", nameof(destination));
        destination[..length].Clear();
        Options.TryWriteBytes(destination);
        WriteRecord(Device, destination[OptionsLength..], 0);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[GetEncodedLength()];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>
    /// The whole path field minus its terminating NUL. Fields are kept whole, embedded NULs included, because
    /// some stores carry templates that a loader patches in place (ntloader's "\PATH_SIGN" followed by padding);
    /// cutting at the first NUL would lose bytes on re-encoding. Display cuts at the first NUL instead.
    /// </summary>
    private static string ReadPath(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.Unicode.GetString(bytes[..(bytes.Length & ~1)]);
        return text.EndsWith('\0') ? text[..^1] : text;
    }

    private static int PathLength(string path) => checked((path.Length + 1) * 2);

    private static int RecordLength(BcdDevice device, int depth)
    {
        if (depth >= MaxNestingDepth)
            throw new BcdException($"device nests deeper than {MaxNestingDepth} levels");
        return device switch
        {
            BcdDevice.Boot or BcdDevice.MbrPartition or BcdDevice.GptPartition => Record.FixedRecordSize,
            BcdDevice.Ramdisk r => Record.RamdiskFile + FileId.Parent + RecordLength(r.Parent, depth + 1) + PathLength(r.Path),
            BcdDevice.File f => Record.FileFile + FileId.Parent + RecordLength(f.Parent, depth + 1) + PathLength(f.Path),
            BcdDevice.VirtualDisk v => Record.VirtualDiskImage + RecordLength(v.Image, depth + 1),
            BcdDevice.Locate l => Record.LocatePath + PathLength(l.Path) + (l.Parent is null ? 0 : RecordLength(l.Parent, depth + 1)),
            BcdDevice.Raw raw => raw.Record.Length,
            _ => throw new BcdException($"cannot encode device {device}"),
        };
    }

    /// <summary>Writes one record into a zeroed span; nested records are written where the format puts them.</summary>
    private static void WriteRecord(BcdDevice device, Span<byte> span, int depth)
    {
        var size = RecordLength(device, depth);
        if (device is BcdDevice.Raw raw)
        {
            raw.Record.Span.CopyTo(span);
            return;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[Record.Size..], (uint)size);
        switch (device)
        {
            case BcdDevice.Boot:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypeBoot);
                break;
            case BcdDevice.MbrPartition mbr:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypePartition);
                BinaryPrimitives.WriteUInt64LittleEndian(span[Record.PartitionId..], mbr.Offset);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.PartitionStyle..], Record.StyleMbr);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DiskId..], mbr.DiskSignature);
                break;
            case BcdDevice.GptPartition gpt:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypePartition);
                gpt.Partition.TryWriteBytes(span[Record.PartitionId..]);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.PartitionStyle..], Record.StyleGpt);
                gpt.Disk.TryWriteBytes(span[Record.DiskId..]);
                break;
            case BcdDevice.Ramdisk ramdisk:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypeBlockIo);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.Flags..], Record.RamdiskFlags);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.BlockIoType..], Record.BlockIoRamdisk);
                WriteFileIdentifier(ramdisk.Parent, ramdisk.Path, span[Record.RamdiskFile..size], depth);
                break;
            case BcdDevice.File file:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypeBlockIo);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.BlockIoType..], Record.BlockIoFile);
                WriteFileIdentifier(file.Parent, file.Path, span[Record.FileFile..size], depth);
                break;
            case BcdDevice.VirtualDisk vhd:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypeBlockIo);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.BlockIoType..], Record.BlockIoVirtualDisk);
                WriteRecord(vhd.Image, span[Record.VirtualDiskImage..size], depth + 1);
                break;
            case BcdDevice.Locate locate:
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.DeviceType..], Record.TypeLocate);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.LocateKind..], (uint)locate.Kind);
                BinaryPrimitives.WriteUInt32LittleEndian(span[Record.LocateElement..], locate.ElementType);
                var parentAt = Record.LocatePath + PathLength(locate.Path);
                Encoding.Unicode.GetBytes(locate.Path, span[Record.LocatePath..]);
                if (locate.Parent is not null)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(span[Record.LocateParentOffset..], (uint)parentAt);
                    WriteRecord(locate.Parent, span[parentAt..size], depth + 1);
                }
                break;
        }
    }

    private static void WriteFileIdentifier(BcdDevice parent, string path, Span<byte> span, int depth)
    {
        var parentLength = RecordLength(parent, depth + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(span[FileId.Version..], FileId.CurrentVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(span[FileId.Length..], (uint)(FileId.Parent + parentLength + PathLength(path)));
        BinaryPrimitives.WriteUInt32LittleEndian(span[FileId.Type..], FileId.PathType);
        WriteRecord(parent, span[FileId.Parent..], depth + 1);
        Encoding.Unicode.GetBytes(path, span[(FileId.Parent + parentLength)..]);
    }
}
