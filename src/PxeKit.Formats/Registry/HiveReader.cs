using System.Buffers.Binary;
using System.Text;
using static PxeKit.Formats.Registry.HiveLayout;

namespace PxeKit.Formats.Registry;

/// <summary>
/// Reads a regf file into a key tree. Hostile-input rules (shared/specs/hostile-inputs.md §2.6):
/// the base block is checked first (signature, equal sequences, version, checksum, sizes); every bin is
/// checked against its position and the file (R1); every cell of every bin is walked once so that a pointer
/// is only followed when it names the start of an allocated cell of at least the size needed (R3, R4);
/// keys are visited with an explicit stack, a depth cap and a visited set (R2: no recursion, no cycles),
/// ri lists may only point at leaves, and every count is checked against the size of the cell that holds
/// it before anything is allocated (R5, R6). Security lists (sk Flink/Blink) are not followed at all.
/// </summary>
internal ref struct HiveReader
{
    private readonly ReadOnlySpan<byte> file;
    private readonly ReadOnlySpan<byte> bins;
    private readonly int minorVersion;
    private ulong[] allocatedCells = [];
    private readonly Dictionary<uint, ReadOnlyMemory<byte>> descriptors = [];
    private readonly HashSet<uint> visitedValues = [];

    private HiveReader(ReadOnlySpan<byte> file, ReadOnlySpan<byte> bins, int minorVersion)
    {
        this.file = file;
        this.bins = bins;
        this.minorVersion = minorVersion;
    }

    public static (RegistryKey Root, string FileName, int MinorVersion) Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < MinimumFileSize)
            throw new HiveFormatException($"file is {file.Length} bytes; a hive has at least {MinimumFileSize} (base block and one bin)", 0);
        if (file.Length > MaximumFileSize)
            throw new HiveFormatException($"file is {file.Length} bytes; hives larger than {MaximumFileSize} are not supported", 0);
        if (!file[..4].SequenceEqual(RegfSignature))
            throw new HiveFormatException("no 'regf' signature: not a registry hive", BaseBlock.Signature);

        var primary = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.PrimarySequence..]);
        var secondary = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.SecondarySequence..]);
        var major = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.MajorVersion..]);
        var minor = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.MinorVersion..]);
        var fileType = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.FileType..]);
        var rootCell = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.RootCell..]);
        var binsSize = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.HiveBinsDataSize..]);
        var storedChecksum = BinaryPrimitives.ReadUInt32LittleEndian(file[BaseBlock.Checksum..]);

        var checksum = ComputeChecksum(file);
        // Windows stores 1 for an XOR of 0 and 0xFFFFFFFE for 0xFFFFFFFF (msuhanov); hivex stores the plain XOR.
        var windowsChecksum = checksum switch { 0 => 1u, 0xFFFFFFFF => 0xFFFFFFFEu, _ => checksum };
        if (storedChecksum != checksum && storedChecksum != windowsChecksum)
            throw new HiveFormatException($"base block checksum is 0x{storedChecksum:x8} but the header XORs to 0x{checksum:x8}", BaseBlock.Checksum);
        if (primary != secondary)
            throw new HiveFormatException($"hive is dirty (sequence numbers {primary} and {secondary} differ): it needs its transaction log replayed by Windows first", BaseBlock.PrimarySequence);
        if (major != 1 || minor is < 1 or > 6)
            throw new HiveFormatException($"unsupported hive format version {major}.{minor} (1.1 to 1.6 are known)", BaseBlock.MajorVersion);
        if (fileType != 0)
            throw new HiveFormatException($"file type is {fileType}: this is a transaction log, not a primary hive", BaseBlock.FileType);
        if (binsSize == 0 || binsSize % BinAlignment != 0)
            throw new HiveFormatException($"hive bins data size 0x{binsSize:x} is not a positive multiple of 0x1000", BaseBlock.HiveBinsDataSize);
        if (binsSize > (uint)(file.Length - BaseBlockSize))
            throw new HiveFormatException($"hive bins data size 0x{binsSize:x} runs past the end of the {file.Length}-byte file", BaseBlock.HiveBinsDataSize);

        var reader = new HiveReader(file, file.Slice(BaseBlockSize, (int)binsSize), (int)minor);
        reader.MapCells();
        var root = reader.ReadTree(rootCell);
        return (root, ReadFileName(file), (int)minor);
    }

    /// <summary>XOR of the 127 dwords before the checksum field.</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> baseBlock)
    {
        uint sum = 0;
        for (var i = 0; i < BaseBlock.Checksum; i += 4)
            sum ^= BinaryPrimitives.ReadUInt32LittleEndian(baseBlock[i..]);
        return sum;
    }

    private static string ReadFileName(ReadOnlySpan<byte> file) =>
        RegistryValue.DecodeString(file.Slice(BaseBlock.FileName, BaseBlock.FileNameSize));

    private static long FileOffset(long cellOffset) => BaseBlockSize + cellOffset;

    /// <summary>
    /// Walks every bin and every cell once. A bin must sit where its header says and fit in the file (R1);
    /// a cell must be at least 8 bytes, 8-aligned, and end inside its bin (R4). Allocated cell starts are
    /// remembered in a bitmap (one bit per 8 bytes) so that pointers can be checked in O(1).
    /// </summary>
    private void MapCells()
    {
        allocatedCells = new ulong[(bins.Length / CellAlignment / 64) + 1];
        var binOffset = 0;
        while (binOffset < bins.Length)
        {
            if (bins.Length - binOffset < BinHeaderSize)
                throw new HiveFormatException($"bin at 0x{binOffset:x} has no room for its header", FileOffset(binOffset));
            var header = bins[binOffset..];
            if (!header[..4].SequenceEqual(HbinSignature))
                throw new HiveFormatException($"no 'hbin' signature where bin 0x{binOffset:x} should start", FileOffset(binOffset));
            var declaredOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[Bin.Offset..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header[Bin.Size..]);
            if (declaredOffset != (uint)binOffset)
                throw new HiveFormatException($"bin at 0x{binOffset:x} says it is at 0x{declaredOffset:x}", FileOffset(binOffset + Bin.Offset));
            if (size == 0 || size % BinAlignment != 0)
                throw new HiveFormatException($"bin at 0x{binOffset:x} has size 0x{size:x}, not a positive multiple of 0x1000", FileOffset(binOffset + Bin.Size));
            if (size > (uint)(bins.Length - binOffset))
                throw new HiveFormatException($"bin at 0x{binOffset:x} of size 0x{size:x} runs past the end of the hive bins data (0x{bins.Length:x})", FileOffset(binOffset + Bin.Size));

            var binEnd = binOffset + (int)size;
            var cell = binOffset + BinHeaderSize;
            while (cell < binEnd)
            {
                if (binEnd - cell < 4)
                    throw new HiveFormatException($"cell at 0x{cell:x} has no room for its size field before the bin ends at 0x{binEnd:x}", FileOffset(cell));
                var rawSize = BinaryPrimitives.ReadInt32LittleEndian(bins[cell..]);
                // int.MinValue has no positive counterpart; treat it as the absurd size it is.
                var cellSize = rawSize == int.MinValue ? long.MaxValue : Math.Abs((long)rawSize);
                if (cellSize < CellAlignment || cellSize % CellAlignment != 0)
                    throw new HiveFormatException($"cell at 0x{cell:x} has size {rawSize}; sizes are multiples of 8 and at least 8", FileOffset(cell));
                if (cellSize > binEnd - cell)
                    throw new HiveFormatException($"cell at 0x{cell:x} of size {cellSize} crosses the end of its bin at 0x{binEnd:x}", FileOffset(cell));
                if (rawSize < 0)
                    allocatedCells[cell / CellAlignment / 64] |= 1UL << (cell / CellAlignment % 64);
                cell += (int)cellSize;
            }
            binOffset = binEnd;
        }
    }

    /// <summary>
    /// Payload of the allocated cell at <paramref name="offset"/>, which must hold at least
    /// <paramref name="minimumLength"/> bytes. Every pointer in the hive goes through here.
    /// </summary>
    private readonly ReadOnlySpan<byte> Cell(uint offset, int minimumLength, string what)
    {
        if (offset == NoCell || offset >= (uint)bins.Length)
            throw new HiveFormatException($"{what} points to 0x{offset:x}, outside the hive bins data (0x{bins.Length:x} bytes)", BaseBlockSize);
        if (offset % CellAlignment != 0 || (allocatedCells[offset / CellAlignment / 64] & (1UL << (int)(offset / CellAlignment % 64))) == 0)
            throw new HiveFormatException($"{what} points to 0x{offset:x}, which is not the start of an allocated cell", FileOffset(offset));
        var size = -BinaryPrimitives.ReadInt32LittleEndian(bins[(int)offset..]);
        var payload = bins.Slice((int)offset + 4, size - 4);
        if (payload.Length < minimumLength)
            throw new HiveFormatException($"{what} at 0x{offset:x} needs {minimumLength} bytes but its cell holds {payload.Length}", FileOffset(offset));
        return payload;
    }

    private readonly ReadOnlySpan<byte> SignedCell(uint offset, int minimumLength, ReadOnlySpan<byte> signature, string what)
    {
        var payload = Cell(offset, Math.Max(minimumLength, 2), what);
        if (!payload[..2].SequenceEqual(signature))
            throw new HiveFormatException($"{what} at 0x{offset:x} has signature '{Printable(payload[..2])}', expected '{Encoding.ASCII.GetString(signature)}'", FileOffset(offset + 4));
        return payload;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        return new string(chars);
    }

    /// <summary>Depth-first over key nodes with an explicit stack; each nk may be reached once (R2).</summary>
    private RegistryKey ReadTree(uint rootCell)
    {
        var visitedKeys = new HashSet<uint>();
        var pending = new Stack<(uint Cell, RegistryKey? Parent, int Depth)>();
        pending.Push((rootCell, null, 1));
        RegistryKey? root = null;
        var finished = new List<RegistryKey>();

        while (pending.Count > 0)
        {
            var (cell, parent, depth) = pending.Pop();
            if (!visitedKeys.Add(cell))
                throw new HiveFormatException($"key node 0x{cell:x} is listed twice (a cycle or a shared subkey list)", FileOffset(cell));
            if (depth > MaximumKeyDepth)
                throw new HiveFormatException($"keys nest deeper than {MaximumKeyDepth} levels at 0x{cell:x}", FileOffset(cell));

            var nk = SignedCell(cell, KeyNode.Name, "nk"u8, parent is null ? "root cell" : $"subkey of '{parent.Path}'");
            var key = ReadKey(cell, nk, parent);
            root ??= key;
            finished.Add(key);

            var subKeyCount = BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.SubKeyCount..]);
            if (subKeyCount == 0)
                continue;
            var children = ReadSubKeyList(BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.SubKeyList..]), key);
            if (children.Count != subKeyCount)
                throw new HiveFormatException($"key '{key.Path}' says it has {subKeyCount} subkeys but its list holds {children.Count}", FileOffset(cell + 4 + KeyNode.SubKeyCount));
            // Reverse so the first child is handled first: errors then name the earliest bad key.
            for (var i = children.Count - 1; i >= 0; i--)
                pending.Push((children[i], key, depth + 1));
        }

        foreach (var key in finished)
        {
            var problem = key.FinishRead();
            if (problem is not null)
                throw new HiveFormatException(problem);
        }
        return root!;
    }

    private RegistryKey ReadKey(uint cell, ReadOnlySpan<byte> nk, RegistryKey? parent)
    {
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(nk[KeyNode.Flags..]);
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(nk[KeyNode.NameLength..]);
        var classLength = BinaryPrimitives.ReadUInt16LittleEndian(nk[KeyNode.ClassLength..]);
        if (nameLength == 0)
            throw new HiveFormatException($"key node 0x{cell:x} has an empty name", FileOffset(cell + 4 + KeyNode.NameLength));
        if (nameLength > nk.Length - KeyNode.Name)
            throw new HiveFormatException($"key node 0x{cell:x} claims a {nameLength}-byte name but its cell holds {nk.Length - KeyNode.Name}", FileOffset(cell + 4 + KeyNode.NameLength));
        var name = DecodeName(nk.Slice(KeyNode.Name, nameLength), (flags & KeyNode.FlagCompressedName) != 0);
        if (name.Contains('\\', StringComparison.Ordinal) || name.Length > RegistryKey.MaxNameLength)
            throw new HiveFormatException($"key node 0x{cell:x} has an invalid name '{name}'", FileOffset(cell + 4 + KeyNode.Name));

        var key = parent is null ? new RegistryKey(name, null) : parent.AddReadSubKey(name);
        key.LastWritten = BinaryPrimitives.ReadInt64LittleEndian(nk[KeyNode.LastWritten..]);

        var classCell = BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.Class..]);
        if (classLength > 0 && classCell != NoCell)
            key.ClassName = Cell(classCell, classLength, $"class name of '{key.Path}'")[..classLength].ToArray();

        var securityCell = BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.Security..]);
        if (securityCell != NoCell)
            key.SecurityDescriptor = ReadDescriptor(securityCell, key);

        var valueCount = BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.ValueCount..]);
        if (valueCount > 0)
        {
            var listCell = BinaryPrimitives.ReadUInt32LittleEndian(nk[KeyNode.ValueList..]);
            // The count is checked against the list cell's size before it drives any loop or allocation (R3).
            if (valueCount > int.MaxValue / 4)
                throw new HiveFormatException($"key '{key.Path}' claims {valueCount} values", FileOffset(cell + 4 + KeyNode.ValueCount));
            var list = Cell(listCell, (int)valueCount * 4, $"value list of '{key.Path}' ({valueCount} values)");
            for (var i = 0; i < (int)valueCount; i++)
                key.AddReadValue(ReadValue(BinaryPrimitives.ReadUInt32LittleEndian(list[(i * 4)..]), key));
        }
        return key;
    }

    private ReadOnlyMemory<byte> ReadDescriptor(uint cell, RegistryKey key)
    {
        if (descriptors.TryGetValue(cell, out var known))
            return known;
        var sk = SignedCell(cell, Security.Descriptor, "sk"u8, $"security of '{key.Path}'");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(sk[Security.DescriptorLength..]);
        if (length > (uint)(sk.Length - Security.Descriptor))
            throw new HiveFormatException($"security cell 0x{cell:x} claims a {length}-byte descriptor but holds {sk.Length - Security.Descriptor}", FileOffset(cell + 4 + Security.DescriptorLength));
        var descriptor = sk.Slice(Security.Descriptor, (int)length).ToArray();
        descriptors[cell] = descriptor;
        return descriptor;
    }

    private RegistryValue ReadValue(uint cell, RegistryKey key)
    {
        // A vk listed twice would let a small file expand into a huge tree (one data cell copied per reference).
        if (!visitedValues.Add(cell))
            throw new HiveFormatException($"value cell 0x{cell:x} is listed twice (in '{key.Path}')", FileOffset(cell));
        var vk = SignedCell(cell, ValueNode.Name, "vk"u8, $"value of '{key.Path}'");
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(vk[ValueNode.NameLength..]);
        var dataSize = BinaryPrimitives.ReadUInt32LittleEndian(vk[ValueNode.DataSize..]);
        var dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(vk[ValueNode.DataOffset..]);
        var type = (RegistryValueType)BinaryPrimitives.ReadUInt32LittleEndian(vk[ValueNode.Type..]);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(vk[ValueNode.Flags..]);
        if (nameLength > vk.Length - ValueNode.Name)
            throw new HiveFormatException($"value cell 0x{cell:x} claims a {nameLength}-byte name but its cell holds {vk.Length - ValueNode.Name}", FileOffset(cell + 4 + ValueNode.NameLength));
        var name = DecodeName(vk.Slice(ValueNode.Name, nameLength), (flags & ValueNode.FlagCompressedName) != 0);
        if (name.Length > RegistryValue.MaxNameLength)
            throw new HiveFormatException($"value cell 0x{cell:x} has a {name.Length}-character name", FileOffset(cell + 4 + ValueNode.Name));
        var what = $"data of value '{name}' in '{key.Path}'";

        if ((dataSize & ValueNode.DataInline) != 0)
        {
            var inlineLength = dataSize & ~ValueNode.DataInline;
            if (inlineLength > 4)
                throw new HiveFormatException($"value cell 0x{cell:x} marks {inlineLength} bytes of data as inline; at most 4 fit", FileOffset(cell + 4 + ValueNode.DataSize));
            return new RegistryValue(name, type, vk.Slice(ValueNode.DataOffset, (int)inlineLength));
        }
        if (dataSize == 0)
            return new RegistryValue(name, type, []);
        if (dataSize > (uint)bins.Length)
            throw new HiveFormatException($"value cell 0x{cell:x} claims {dataSize} bytes of data, more than the whole hive", FileOffset(cell + 4 + ValueNode.DataSize));

        var data = Cell(dataOffset, 0, what);
        if (minorVersion > 3 && dataSize > BigDataSegmentSize && data.Length >= List.BigDataHeaderSize && data[..2].SequenceEqual("db"u8))
            return new RegistryValue(name, type, ReadBigData(dataOffset, data, (int)dataSize, what));
        if (dataSize > (uint)data.Length)
            throw new HiveFormatException($"{what} is {dataSize} bytes but its cell at 0x{dataOffset:x} holds {data.Length}", FileOffset(dataOffset));
        return new RegistryValue(name, type, data[..(int)dataSize]);
    }

    /// <summary>"db" big data: a list of segment cells, each holding up to 16344 bytes (R5: counts checked against cells).</summary>
    private readonly byte[] ReadBigData(uint cell, ReadOnlySpan<byte> db, int length, string what)
    {
        var segments = BinaryPrimitives.ReadUInt16LittleEndian(db[List.Count..]);
        var listCell = BinaryPrimitives.ReadUInt32LittleEndian(db[List.BigDataSegmentList..]);
        var needed = (length + BigDataSegmentSize - 1) / BigDataSegmentSize;
        if (segments < needed)
            throw new HiveFormatException($"{what}: {length} bytes need {needed} segments but the big-data cell lists {segments}", FileOffset(cell + 4 + List.Count));
        var list = Cell(listCell, needed * 4, $"segment list of {what}");
        var result = new byte[length];
        var copied = 0;
        for (var i = 0; copied < length; i++)
        {
            var chunk = Math.Min(BigDataSegmentSize, length - copied);
            var segmentCell = BinaryPrimitives.ReadUInt32LittleEndian(list[(i * 4)..]);
            Cell(segmentCell, chunk, $"segment {i} of {what}")[..chunk].CopyTo(result.AsSpan(copied));
            copied += chunk;
        }
        return result;
    }

    /// <summary>
    /// Child nk offsets of a key. lf/lh/li are leaves; ri lists leaves and may not point at another ri
    /// (msuhanov: "an index root can't point to another index root"; hivex CVE-2021-3622), so this is at most
    /// two levels and needs no recursion.
    /// </summary>
    private readonly List<uint> ReadSubKeyList(uint listCell, RegistryKey key)
    {
        var children = new List<uint>();
        var what = $"subkey list of '{key.Path}'";
        var list = SignedList(listCell, what, out var signature);
        if (signature == "ri")
        {
            var count = BinaryPrimitives.ReadUInt16LittleEndian(list[List.Count..]);
            CheckCount(listCell, list, count, List.IndexEntrySize, what);
            for (var i = 0; i < count; i++)
            {
                var leafCell = BinaryPrimitives.ReadUInt32LittleEndian(list[(List.Entries + (i * List.IndexEntrySize))..]);
                var leaf = SignedList(leafCell, $"leaf {i} of {what}", out var leafSignature);
                if (leafSignature == "ri")
                    throw new HiveFormatException($"index root 0x{listCell:x} of '{key.Path}' points to another index root at 0x{leafCell:x}", FileOffset(leafCell));
                AddLeaf(leafCell, leaf, leafSignature, children, what);
            }
        }
        else
        {
            AddLeaf(listCell, list, signature, children, what);
        }
        return children;
    }

    private readonly ReadOnlySpan<byte> SignedList(uint cell, string what, out string signature)
    {
        var list = Cell(cell, List.Entries, what);
        signature = list[0] == (byte)'l' && list[1] is (byte)'f' or (byte)'h' or (byte)'i' ? "l" + (char)list[1]
            : list[0] == (byte)'r' && list[1] == (byte)'i' ? "ri"
            : throw new HiveFormatException($"{what} at 0x{cell:x} has signature '{Printable(list[..2])}', not lf/lh/li/ri", FileOffset(cell + 4));
        return list;
    }

    private static void AddLeaf(uint cell, ReadOnlySpan<byte> leaf, string signature, List<uint> children, string what)
    {
        var count = BinaryPrimitives.ReadUInt16LittleEndian(leaf[List.Count..]);
        var entrySize = signature == "li" ? List.IndexEntrySize : List.HashedEntrySize;
        CheckCount(cell, leaf, count, entrySize, what);
        for (var i = 0; i < count; i++)
            children.Add(BinaryPrimitives.ReadUInt32LittleEndian(leaf[(List.Entries + (i * entrySize))..]));
    }

    private static void CheckCount(uint cell, ReadOnlySpan<byte> list, int count, int entrySize, string what)
    {
        if (count * entrySize > list.Length - List.Entries)
            throw new HiveFormatException($"{what} at 0x{cell:x} claims {count} entries of {entrySize} bytes but its cell holds {list.Length - List.Entries}", FileOffset(cell + 4 + List.Count));
    }

    /// <summary>Names are Latin-1 when the "compressed name" flag is set, UTF-16LE otherwise.</summary>
    private static string DecodeName(ReadOnlySpan<byte> bytes, bool compressed) =>
        compressed ? Encoding.Latin1.GetString(bytes) : Encoding.Unicode.GetString(bytes[..(bytes.Length & ~1)]);
}
