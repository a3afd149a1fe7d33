using System.Buffers.Binary;
using System.Text;
using static PxeKit.Formats.Registry.HiveLayout;

namespace PxeKit.Formats.Registry;

/// <summary>
/// Writes a key tree as a regf file following the deterministic algorithm of spec §1.11, which reproduces
/// the reference vectors of spec §8 byte for byte:
/// nk cells in pre-order (children in list order), the sk cells right after the root nk, then per key its lf,
/// its value list, and per value its vk and data cell; cells packed into 4 KiB bins, each bin closed by a
/// free cell. Format 1.3 with lf lists is what bcdedit writes and what Windows and hivex accept (§1.12);
/// values larger than one cell allows in 1.3 are written as "db" big data and the hive becomes 1.5.
/// </summary>
internal static class HiveWriter
{
    private const ushort RootFlags = KeyNode.FlagHiveEntry | KeyNode.FlagNoDelete | KeyNode.FlagCompressedName;

    private enum CellKind { KeyNode, Security, SubKeyList, ValueList, ValueNode, Data, BigData, SegmentList, Segment, ClassName }

    private readonly record struct PlannedCell(CellKind Kind, int Size, int Key, int Item = 0, int Segment = 0);

    public static byte[] Write(RegistryHive hive, HiveWriteOptions options)
    {
        var timestamp = (options.Timestamp ?? options.TimeProvider.GetUtcNow()).ToFileTime();

        // Pre-order with an explicit stack: our own trees are trusted, but they may be deep.
        var keys = new List<RegistryKey>();
        var stack = new Stack<RegistryKey>();
        stack.Push(hive.Root);
        while (stack.Count > 0)
        {
            var key = stack.Pop();
            keys.Add(key);
            for (var i = key.SubKeys.Count - 1; i >= 0; i--)
                stack.Push(key.SubKeys[i]);
        }
        if (keys.Count > int.MaxValue / 2)
            throw new InvalidOperationException("too many keys");

        // One sk cell per distinct descriptor, in order of first use.
        var descriptors = new List<ReadOnlyMemory<byte>>();
        var descriptorOf = new int[keys.Count];
        var references = new List<int>();
        for (var k = 0; k < keys.Count; k++)
        {
            var sd = keys[k].SecurityDescriptor;
            if (sd.IsEmpty)
                sd = HiveSecurity.DefaultDescriptor;
            var index = descriptors.FindIndex(d => d.Span.SequenceEqual(sd.Span));
            if (index < 0)
            {
                index = descriptors.Count;
                descriptors.Add(sd);
                references.Add(0);
            }
            descriptorOf[k] = index;
            references[index]++;
        }

        var encodedNames = keys.Select(k => EncodeName(k.Name)).ToArray();
        var bigData = false;
        var plan = new List<PlannedCell>();
        for (var k = 0; k < keys.Count; k++)
        {
            plan.Add(new PlannedCell(CellKind.KeyNode, CellSize(KeyNode.Name + encodedNames[k].Bytes.Length), k));
            if (k == 0)
            {
                for (var s = 0; s < descriptors.Count; s++)
                    plan.Add(new PlannedCell(CellKind.Security, CellSize(Security.Descriptor + descriptors[s].Length), 0, s));
            }
        }
        for (var k = 0; k < keys.Count; k++)
        {
            var key = keys[k];
            if (key.SubKeys.Count > ushort.MaxValue)
                throw new InvalidOperationException($"key '{key.Path}' has {key.SubKeys.Count} subkeys; one lf list holds at most {ushort.MaxValue}");
            if (key.SubKeys.Count > 0)
                plan.Add(new PlannedCell(CellKind.SubKeyList, CellSize(List.Entries + (key.SubKeys.Count * List.HashedEntrySize)), k));
            if (key.Values.Count > 0)
                plan.Add(new PlannedCell(CellKind.ValueList, CellSize(key.Values.Count * 4), k));
            for (var v = 0; v < key.Values.Count; v++)
            {
                var value = key.Values[v];
                plan.Add(new PlannedCell(CellKind.ValueNode, CellSize(ValueNode.Name + EncodeName(value.Name).Bytes.Length), k, v));
                var length = value.Data.Length;
                if (length <= 4)
                    continue;
                if (length <= BigDataSegmentSize)
                {
                    plan.Add(new PlannedCell(CellKind.Data, CellSize(length), k, v));
                    continue;
                }
                bigData = true;
                var segments = (length + BigDataSegmentSize - 1) / BigDataSegmentSize;
                if (segments > ushort.MaxValue)
                    throw new InvalidOperationException($"value '{value.Name}' of '{key.Path}' is too large for a hive ({length} bytes)");
                plan.Add(new PlannedCell(CellKind.BigData, CellSize(List.BigDataHeaderSize), k, v));
                plan.Add(new PlannedCell(CellKind.SegmentList, CellSize(segments * 4), k, v));
                for (var s = 0; s < segments; s++)
                    plan.Add(new PlannedCell(CellKind.Segment, CellSize(Math.Min(BigDataSegmentSize, length - (s * BigDataSegmentSize))), k, v, s));
            }
            if (!key.ClassName.IsEmpty)
            {
                if (key.ClassName.Length > ushort.MaxValue)
                    throw new InvalidOperationException($"class name of '{key.Path}' is longer than {ushort.MaxValue} bytes");
                plan.Add(new PlannedCell(CellKind.ClassName, CellSize(key.ClassName.Length), k));
            }
        }

        // Pack: a cell that does not fit in the current bin starts a new one; a cell larger than a 4 KiB bin
        // gets a bin of its own, rounded up to 4 KiB.
        var offsets = new int[plan.Count];
        var binStarts = new List<(int Start, int Size)>();
        var binUsed = new List<int>();
        int binStart = 0, binSize = BinAlignment, position = BinHeaderSize;
        binStarts.Add((binStart, binSize));
        for (var i = 0; i < plan.Count; i++)
        {
            var size = plan[i].Size;
            if (position + size > binStart + binSize)
            {
                binUsed.Add(position);
                binStart += binSize;
                binSize = Math.Max(BinAlignment, AlignUp(size + BinHeaderSize, BinAlignment));
                position = binStart + BinHeaderSize;
                binStarts.Add((binStart, binSize));
            }
            offsets[i] = position;
            position += size;
        }
        binUsed.Add(position);
        var binsDataSize = binStart + binSize;

        // Where each key's cells ended up.
        var nkOffset = new int[keys.Count];
        var lfOffset = new int[keys.Count];
        var valueListOffset = new int[keys.Count];
        var classOffset = new int[keys.Count];
        var vkOffsets = new Dictionary<(int Key, int Value), int>();
        var dataOffsets = new Dictionary<(int Key, int Value), int>();
        var segmentListOffsets = new Dictionary<(int Key, int Value), int>();
        var segmentOffsets = new Dictionary<(int Key, int Value, int Segment), int>();
        var skOffsets = new int[descriptors.Count];
        Array.Fill(lfOffset, unchecked((int)NoCell));
        Array.Fill(valueListOffset, unchecked((int)NoCell));
        Array.Fill(classOffset, unchecked((int)NoCell));
        for (var i = 0; i < plan.Count; i++)
        {
            var cell = plan[i];
            switch (cell.Kind)
            {
                case CellKind.KeyNode: nkOffset[cell.Key] = offsets[i]; break;
                case CellKind.Security: skOffsets[cell.Item] = offsets[i]; break;
                case CellKind.SubKeyList: lfOffset[cell.Key] = offsets[i]; break;
                case CellKind.ValueList: valueListOffset[cell.Key] = offsets[i]; break;
                case CellKind.ValueNode: vkOffsets[(cell.Key, cell.Item)] = offsets[i]; break;
                case CellKind.Data:
                case CellKind.BigData: dataOffsets[(cell.Key, cell.Item)] = offsets[i]; break;
                case CellKind.SegmentList: segmentListOffsets[(cell.Key, cell.Item)] = offsets[i]; break;
                case CellKind.Segment: segmentOffsets[(cell.Key, cell.Item, cell.Segment)] = offsets[i]; break;
                case CellKind.ClassName: classOffset[cell.Key] = offsets[i]; break;
            }
        }
        var keyIndex = new Dictionary<RegistryKey, int>(ReferenceEqualityComparer.Instance);
        for (var k = 0; k < keys.Count; k++)
            keyIndex[keys[k]] = k;

        var output = new byte[BaseBlockSize + binsDataSize];
        var bins = output.AsSpan(BaseBlockSize);

        // Bin headers, and the free cell that closes each bin (cells must tile a bin exactly).
        for (var b = 0; b < binStarts.Count; b++)
        {
            var (start, size) = binStarts[b];
            var header = bins[start..];
            HbinSignature.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[Bin.Offset..], (uint)start);
            BinaryPrimitives.WriteUInt32LittleEndian(header[Bin.Size..], (uint)size);
            if (b == 0)
                BinaryPrimitives.WriteInt64LittleEndian(header[Bin.Timestamp..], timestamp);
            var free = start + size - binUsed[b];
            if (free > 0)
                BinaryPrimitives.WriteInt32LittleEndian(bins[binUsed[b]..], free);
        }

        for (var i = 0; i < plan.Count; i++)
        {
            var cell = plan[i];
            var span = bins.Slice(offsets[i], cell.Size);
            BinaryPrimitives.WriteInt32LittleEndian(span, -cell.Size);
            var payload = span[4..];
            var key = keys[cell.Key];
            switch (cell.Kind)
            {
                case CellKind.KeyNode:
                {
                    var k = cell.Key;
                    var (nameBytes, compressed) = encodedNames[k];
                    "nk"u8.CopyTo(payload);
                    var flags = (ushort)(k == 0 ? RootFlags : 0);
                    if (compressed)
                        flags |= KeyNode.FlagCompressedName;
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[KeyNode.Flags..], flags);
                    var written = key.IsModified || key.LastWritten is null ? timestamp : key.LastWritten.Value;
                    BinaryPrimitives.WriteInt64LittleEndian(payload[KeyNode.LastWritten..], written);
                    var parent = key.Parent is null ? NoCell : (uint)nkOffset[keyIndex[key.Parent]];
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.Parent..], parent);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.SubKeyCount..], (uint)key.SubKeys.Count);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.SubKeyList..], unchecked((uint)lfOffset[k]));
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.VolatileSubKeyList..], NoCell);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.ValueCount..], (uint)key.Values.Count);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.ValueList..], unchecked((uint)valueListOffset[k]));
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.Security..], (uint)skOffsets[descriptorOf[k]]);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.Class..], unchecked((uint)classOffset[k]));
                    // Maximum lengths count UTF-16 bytes whatever the stored encoding (only the low 16 bits are a length).
                    var maxSubKeyName = key.SubKeys.Count == 0 ? 0 : key.SubKeys.Max(s => s.Name.Length * 2);
                    var maxSubKeyClass = key.SubKeys.Count == 0 ? 0 : key.SubKeys.Max(s => s.ClassName.Length);
                    var maxValueName = key.Values.Count == 0 ? 0 : key.Values.Max(v => v.Name.Length * 2);
                    var maxValueData = key.Values.Count == 0 ? 0 : key.Values.Max(v => v.Data.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.MaxSubKeyNameLength..], (uint)maxSubKeyName & 0xFFFF);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.MaxSubKeyClassLength..], (uint)maxSubKeyClass);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.MaxValueNameLength..], (uint)maxValueName);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[KeyNode.MaxValueDataLength..], (uint)maxValueData);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[KeyNode.NameLength..], (ushort)nameBytes.Length);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[KeyNode.ClassLength..], (ushort)key.ClassName.Length);
                    nameBytes.CopyTo(payload[KeyNode.Name..]);
                    break;
                }
                case CellKind.Security:
                {
                    var s = cell.Item;
                    "sk"u8.CopyTo(payload);
                    // All sk cells form one circular doubly linked list (Windows checks it on load).
                    var next = skOffsets[(s + 1) % skOffsets.Length];
                    var previous = skOffsets[(s + skOffsets.Length - 1) % skOffsets.Length];
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[Security.Flink..], (uint)next);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[Security.Blink..], (uint)previous);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[Security.ReferenceCount..], (uint)references[s]);
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[Security.DescriptorLength..], (uint)descriptors[s].Length);
                    descriptors[s].Span.CopyTo(payload[Security.Descriptor..]);
                    break;
                }
                case CellKind.SubKeyList:
                {
                    "lf"u8.CopyTo(payload);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[List.Count..], (ushort)key.SubKeys.Count);
                    for (var s = 0; s < key.SubKeys.Count; s++)
                    {
                        var entry = payload[(List.Entries + (s * List.HashedEntrySize))..];
                        var child = key.SubKeys[s];
                        BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)nkOffset[keyIndex[child]]);
                        // Name hint: the first four characters as bytes (what Windows writes for lf).
                        for (var c = 0; c < 4 && c < child.Name.Length; c++)
                            entry[4 + c] = child.Name[c] < 0x100 ? (byte)child.Name[c] : (byte)0;
                    }
                    break;
                }
                case CellKind.ValueList:
                    for (var v = 0; v < key.Values.Count; v++)
                        BinaryPrimitives.WriteUInt32LittleEndian(payload[(v * 4)..], (uint)vkOffsets[(cell.Key, v)]);
                    break;
                case CellKind.ValueNode:
                {
                    var value = key.Values[cell.Item];
                    var (nameBytes, compressed) = EncodeName(value.Name);
                    "vk"u8.CopyTo(payload);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[ValueNode.NameLength..], (ushort)nameBytes.Length);
                    var length = value.Data.Length;
                    if (length <= 4)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(payload[ValueNode.DataSize..], (uint)length | ValueNode.DataInline);
                        value.Data.Span.CopyTo(payload[ValueNode.DataOffset..]);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(payload[ValueNode.DataSize..], (uint)length);
                        BinaryPrimitives.WriteUInt32LittleEndian(payload[ValueNode.DataOffset..], (uint)dataOffsets[(cell.Key, cell.Item)]);
                    }
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[ValueNode.Type..], (uint)value.Type);
                    var flags = (ushort)(compressed && nameBytes.Length > 0 ? ValueNode.FlagCompressedName : 0);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[ValueNode.Flags..], flags);
                    nameBytes.CopyTo(payload[ValueNode.Name..]);
                    break;
                }
                case CellKind.Data:
                    key.Values[cell.Item].Data.Span.CopyTo(payload);
                    break;
                case CellKind.BigData:
                {
                    var length = key.Values[cell.Item].Data.Length;
                    "db"u8.CopyTo(payload);
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[List.Count..], (ushort)((length + BigDataSegmentSize - 1) / BigDataSegmentSize));
                    BinaryPrimitives.WriteUInt32LittleEndian(payload[List.BigDataSegmentList..], (uint)segmentListOffsets[(cell.Key, cell.Item)]);
                    break;
                }
                case CellKind.SegmentList:
                {
                    var segments = (key.Values[cell.Item].Data.Length + BigDataSegmentSize - 1) / BigDataSegmentSize;
                    for (var s = 0; s < segments; s++)
                        BinaryPrimitives.WriteUInt32LittleEndian(payload[(s * 4)..], (uint)segmentOffsets[(cell.Key, cell.Item, s)]);
                    break;
                }
                case CellKind.Segment:
                {
                    var data = key.Values[cell.Item].Data.Span;
                    var from = cell.Segment * BigDataSegmentSize;
                    data.Slice(from, Math.Min(BigDataSegmentSize, data.Length - from)).CopyTo(payload);
                    break;
                }
                case CellKind.ClassName:
                    key.ClassName.Span.CopyTo(payload);
                    break;
            }
        }

        WriteBaseBlock(output, hive.FileName, timestamp, options.SequenceNumber, bigData ? 5u : 3u, (uint)binsDataSize);
        return output;
    }

    private static void WriteBaseBlock(Span<byte> output, string fileName, long timestamp, uint sequence, uint minor, uint binsDataSize)
    {
        var header = output[..BaseBlockSize];
        RegfSignature.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.PrimarySequence..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.SecondarySequence..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.MajorVersion..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.MinorVersion..], minor);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.FileType..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.FileFormat..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.RootCell..], BinHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.HiveBinsDataSize..], binsDataSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.ClusteringFactor..], 1);
        // Windows keeps the last 31 characters of the path, NUL-terminated.
        var name = fileName.Length > 31 ? fileName[^31..] : fileName;
        Encoding.Unicode.GetBytes(name, header.Slice(BaseBlock.FileName, BaseBlock.FileNameSize - 2));

        // hivex and DiscUtils compare against the plain XOR, Windows maps 0 and 0xFFFFFFFF: avoid both values
        // by nudging the timestamp so every reader agrees (spec §1.2).
        while (true)
        {
            BinaryPrimitives.WriteInt64LittleEndian(header[BaseBlock.LastWritten..], timestamp);
            var checksum = HiveReader.ComputeChecksum(header);
            if (checksum is not 0 and not 0xFFFFFFFF)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(header[BaseBlock.Checksum..], checksum);
                return;
            }
            timestamp++;
        }
    }

    /// <summary>Latin-1 ("compressed") when every character fits, which is the case for all BCD names; UTF-16LE otherwise.</summary>
    private static (byte[] Bytes, bool Compressed) EncodeName(string name)
    {
        foreach (var c in name)
        {
            if (c > 0xFF)
                return (Encoding.Unicode.GetBytes(name), false);
        }
        return (Encoding.Latin1.GetBytes(name), true);
    }

    private static int CellSize(int payloadLength) => AlignUp(checked(payloadLength + 4), CellAlignment);

    private static int AlignUp(int value, int alignment) => checked((value + alignment - 1) / alignment * alignment);
}
