namespace PxeKit.Formats.Bcd;

/// <summary>How a locate device finds its partition (MS LocateIdentifier type).</summary>
public enum BcdLocateKind
{
    /// <summary>The path comes from another element of the same object (bcdedit <c>locate=custom:12000002</c>).</summary>
    ByElement = 0,

    /// <summary>The path is stored in the device itself (<c>locate=\Windows</c>, the <c>[locate]</c> parent).</summary>
    ByString = 1,
}

/// <summary>
/// A device record of a BCD device element (spec §3). Records nest: a ramdisk or file names the device its
/// file lives on, a vhd wraps a file, a locate may name a parent. Encoding and decoding live in
/// <see cref="BcdDeviceElement"/>.
/// </summary>
public abstract record BcdDevice
{
    private protected BcdDevice()
    {
    }

    /// <summary><c>boot</c>: the partition (or network device) bootmgr itself was loaded from.</summary>
    public sealed record Boot : BcdDevice;

    /// <summary>A partition of an MBR disk: disk signature (MBR offset 0x1B8) and byte offset of the partition.</summary>
    public sealed record MbrPartition(uint DiskSignature, ulong Offset) : BcdDevice;

    /// <summary>A partition of a GPT disk: disk GUID and unique partition GUID.</summary>
    public sealed record GptPartition(Guid Disk, Guid Partition) : BcdDevice;

    /// <summary>A WIM (or other image) loaded into a ramdisk; the device options (sdi file) come from the element's options id.</summary>
    public sealed record Ramdisk(BcdDevice Parent, string Path) : BcdDevice;

    /// <summary>A file on another device (<c>file=[parent]path</c>).</summary>
    public sealed record File(BcdDevice Parent, string Path) : BcdDevice;

    /// <summary>A virtual hard disk whose image is the given <see cref="File"/> record.</summary>
    public sealed record VirtualDisk(BcdDevice Image) : BcdDevice;

    /// <summary>The first partition on which a path exists; <see cref="Parent"/> narrows the search.</summary>
    public sealed record Locate(BcdLocateKind Kind, uint ElementType, string Path, BcdDevice? Parent) : BcdDevice;

    /// <summary>A record this decoder does not interpret (legacy partition, UDP, serial...), kept byte for byte.</summary>
    public sealed record Raw(ReadOnlyMemory<byte> Record) : BcdDevice
    {
        public uint DeviceType => Record.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Record.Span) : 0;

        public bool Equals(Raw? other) => other is not null && Record.Span.SequenceEqual(other.Record.Span);

        public override int GetHashCode() => Record.Length;
    }

    /// <summary>The <c>vhd=</c> device bcdedit writes: a locate-by-element whose parent is a VHD over a file.</summary>
    public static Locate Vhd(BcdDevice fileParent, string path, uint locateElement) =>
        new(BcdLocateKind.ByElement, locateElement, "", new VirtualDisk(new File(fileParent, path)));
}
