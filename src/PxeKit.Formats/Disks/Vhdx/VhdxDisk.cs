using System.Buffers.Binary;
using static PxeKit.Formats.Disks.Vhdx.VhdxLayout;

namespace PxeKit.Formats.Disks.Vhdx;

/// <summary>
/// A VHDX image (MS-VHDX 1.0): fixed, dynamic or differencing.
/// </summary>
/// <remarks>
/// Crash safety: payload data is written in place (into blocks that are already allocated, or into new blocks
/// past the old end of the file, which nothing points at yet). Every change to the BAT or to a sector bitmap is
/// kept in memory until <see cref="Flush"/>, which: fsyncs the data; writes one log entry per 126 changed 4 KiB
/// metadata sectors and fsyncs it; writes those sectors in place and fsyncs. A crash before the log entry is
/// durable loses only unflushed writes; a crash after it is repaired by replay on the next open. The first write
/// after opening writes a new header (new FileWriteGuid, DataWriteGuid and LogGuid, sequence+1) into the
/// non-current header slot and fsyncs, so the other slot stays a valid fallback. A clean close clears LogGuid.
/// A read-only open of an image with a dirty log replays it into a memory overlay and writes nothing.
/// </remarks>
public sealed class VhdxDisk : VirtualDisk
{
    private const int BitmapCacheSectors = 256; // 1 MiB of sector-bitmap sectors at most

    private readonly IImageFile file;
    private readonly ulong[] bat;
    private readonly long batOffset;
    private readonly long chunkRatio;
    private readonly long payloadBlocks;
    private readonly bool hasParent;
    private readonly HashSet<long> dirtyBatSectors = [];
    private readonly Dictionary<long, byte[]> bitmapCache = [];
    private readonly HashSet<long> dirtyBitmapSectors = [];
    private VhdxHeader header;
    private int currentHeaderSlot;
    private bool headerUpdated;
    private ulong logSequence;
    private long fileEnd;

    private VhdxDisk(IImageFile file, VhdxHeader header, int slot, ulong[] bat, long batOffset, long length,
        int blockSize, int logical, int physical, bool hasParent, VirtualDisk? parent, Guid page83)
    {
        this.file = file;
        this.header = header;
        currentHeaderSlot = slot;
        this.bat = bat;
        this.batOffset = batOffset;
        Length = length;
        BlockSize = blockSize;
        LogicalSectorSize = logical;
        PhysicalSectorSize = physical;
        this.hasParent = hasParent;
        Parent = parent;
        Page83 = page83;
        chunkRatio = (1L << 23) * logical / blockSize;
        payloadBlocks = (length + blockSize - 1) / blockSize;
        fileEnd = AlignUp(file.Length, MiB);
    }

    public override DiskFormat Format => DiskFormat.Vhdx;
    public override DiskKind Kind => hasParent ? DiskKind.Differencing : IsFixed ? DiskKind.Fixed : DiskKind.Dynamic;
    public override long Length { get; }
    public override int LogicalSectorSize { get; }
    public override int PhysicalSectorSize { get; }
    public override bool CanWrite => file.CanWrite;
    public override string Path => file.Path;
    public override VirtualDisk? Parent { get; }

    /// <summary>Payload block size in bytes.</summary>
    public int BlockSize { get; }

    /// <summary>The DataWriteGuid a child's parent_linkage must name.</summary>
    public Guid DataWriteGuid => header.DataWriteGuid;

    internal Guid Page83 { get; }
    internal bool IsFixed { get; private init; }
    internal IReadOnlyDictionary<string, string>? ParentLocatorEntries { get; private init; }

    private long PayloadIndex(long block) => block + block / chunkRatio;
    private long BitmapIndex(long chunk) => chunk * (chunkRatio + 1) + chunkRatio;
    private static int State(ulong entry) => (int)(entry & 7);
    private static long EntryOffset(ulong entry) => (long)(entry >> 20) * MiB;

    // ---------------------------------------------------------------- open

    internal static VirtualDisk Open(IImageFile file, DiskOpenOptions options, int depth, IReadOnlyList<string> chain)
    {
        var path = file.Path;
        if (file.Length < 4 * MiB / 4 + RegionTableSize)
            throw new DiskFormatException(path, $"{file.Length} bytes is too short for a VHDX file (truncated?)");

        var (header, slot) = ReadHeaders(file);
        if (header.Version != 1)
            throw new DiskFormatException(path, $"VHDX version {header.Version} is not supported (only 1)", slot == 0 ? Header1Offset : Header2Offset);
        if (header.LogLength % MiB != 0 || header.LogOffset % (ulong)MiB != 0 || header.LogOffset < (ulong)MiB ||
            header.LogOffset + header.LogLength > (ulong)file.Length)
            throw new DiskFormatException(path, $"the log ({header.LogLength} bytes at 0x{header.LogOffset:x}) is misaligned or leaves the file", slot == 0 ? Header1Offset : Header2Offset);

        var view = file;
        if (header.LogGuid != Guid.Empty)
        {
            var logEntries = VhdxLog.FindActive(file, (long)header.LogOffset, header.LogLength, header.LogGuid);
            if (logEntries.Count > 0)
            {
                var last = logEntries[^1];
                if (last.FlushedFileOffset > (ulong)file.Length)
                    throw new DiskFormatException(path,
                        $"the log says the file held {last.FlushedFileOffset} bytes but it has {file.Length}: truncated after a crash",
                        (long)header.LogOffset + last.LogOffset);
                var writes = logEntries.SelectMany(e => e.Writes).ToList();
                foreach (var w in writes)
                {
                    var wEnd = w.FileOffset + (w.Data?.Length ?? w.ZeroLength);
                    if (w.FileOffset < 2 * RegionTable2Offset / 2 + RegionTableSize && w.FileOffset < 1 * MiB ||
                        wEnd > (long)Math.Max(last.LastFileOffset, (ulong)file.Length) + MiB * 1024L)
                        throw new DiskFormatException(path, $"a log entry writes at 0x{w.FileOffset:x}, over the headers or far past the file", (long)header.LogOffset + last.LogOffset);
                }
                if (file.CanWrite)
                {
                    Replay(file, writes, (long)last.LastFileOffset);
                }
                else
                    view = new LogOverlayFile(file, writes);
            }
            if (file.CanWrite)
            {
                var (h2, s2) = WriteHeader(file, header with { LogGuid = Guid.Empty }, slot);
                header = h2;
                slot = s2;
            }
        }

        var regions = ReadRegions(view);
        var batRegion = regions.FirstOrDefault(r => r.Id == BatRegion);
        var metaRegion = regions.FirstOrDefault(r => r.Id == MetadataRegion);
        if (batRegion.Length == 0 || metaRegion.Length == 0)
            throw new DiskFormatException(path, "the region table lacks the BAT or the metadata region", RegionTable1Offset);
        foreach (var r in regions)
        {
            if (r.Id != BatRegion && r.Id != MetadataRegion && r.Required)
                throw new DiskFormatException(path, $"unknown required region {r.Id}: made by a newer VHDX writer", RegionTable1Offset);
            if (r.FileOffset < MiB || r.FileOffset % MiB != 0 || r.Length % MiB != 0 || r.FileOffset + r.Length > view.Length)
                throw new DiskFormatException(path, $"region {r.Id} ({r.Length} bytes at 0x{r.FileOffset:x}) is misaligned or leaves the file", RegionTable1Offset);
        }
        var fixedRegions = new List<(long Start, long End, string What)>
        {
            (0, MiB, "the headers"), ((long)header.LogOffset, (long)header.LogOffset + header.LogLength, "the log"),
            (batRegion.FileOffset, batRegion.FileOffset + batRegion.Length, "the BAT"),
            (metaRegion.FileOffset, metaRegion.FileOffset + metaRegion.Length, "the metadata region"),
        };
        for (var i = 0; i < fixedRegions.Count; i++)
            for (var j = i + 1; j < fixedRegions.Count; j++)
                if (fixedRegions[i].Start < fixedRegions[j].End && fixedRegions[j].Start < fixedRegions[i].End)
                    throw new DiskFormatException(path, $"{fixedRegions[i].What} and {fixedRegions[j].What} overlap", fixedRegions[j].Start);

        // Metadata
        var table = new byte[MetadataTableSize];
        view.ReadAt(metaRegion.FileOffset, table);
        var items = MetadataTable.Parse(table, out var mp)
            ?? throw new DiskFormatException(path, $"bad metadata table: {mp}", metaRegion.FileOffset);
        byte[] Item(Guid id, int minLength, bool required)
        {
            var e = items.FirstOrDefault(m => m.Id == id);
            if (e.Id != id)
            {
                if (required)
                    throw new DiskFormatException(path, $"the metadata lacks the required item {id}", metaRegion.FileOffset);
                return [];
            }
            if (e.Offset < MetadataTableSize || e.Offset + (long)e.Length > metaRegion.Length || e.Length < minLength || e.Length > 64 * 1024)
                throw new DiskFormatException(path, $"metadata item {id} ({e.Length} bytes at +0x{e.Offset:x}) lies outside its region or has a wrong size", metaRegion.FileOffset + e.Offset);
            var data = new byte[e.Length];
            view.ReadAt(metaRegion.FileOffset + e.Offset, data);
            return data;
        }
        var known = new[] { FileParametersItem, VirtualDiskSizeItem, Page83DataItem, LogicalSectorSizeItem, PhysicalSectorSizeItem, ParentLocatorItem };
        foreach (var m in items)
            if (m.Required && !known.Contains(m.Id))
                throw new DiskFormatException(path, $"unknown required metadata item {m.Id}: made by a newer VHDX writer", metaRegion.FileOffset);

        var fp = Item(FileParametersItem, 8, true);
        var blockSize = BinaryPrimitives.ReadUInt32LittleEndian(fp);
        var fpFlags = BinaryPrimitives.ReadUInt32LittleEndian(fp.AsSpan(4));
        var leaveAllocated = (fpFlags & 1) != 0;
        var hasParent = (fpFlags & 2) != 0;
        if (blockSize < MinBlockSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0)
            throw new DiskFormatException(path, $"block size {blockSize} is not a power of two between 1 MiB and 256 MiB", metaRegion.FileOffset);
        var size = (long)BinaryPrimitives.ReadUInt64LittleEndian(Item(VirtualDiskSizeItem, 8, true));
        var logical = (int)BinaryPrimitives.ReadUInt32LittleEndian(Item(LogicalSectorSizeItem, 4, true));
        var physical = (int)BinaryPrimitives.ReadUInt32LittleEndian(Item(PhysicalSectorSizeItem, 4, true));
        if (logical != 512 && logical != 4096)
            throw new DiskFormatException(path, $"logical sector size {logical} is neither 512 nor 4096", metaRegion.FileOffset);
        if (physical != 512 && physical != 4096)
            throw new DiskFormatException(path, $"physical sector size {physical} is neither 512 nor 4096", metaRegion.FileOffset);
        if (size <= 0 || size > MaxVirtualSize || size % logical != 0)
            throw new DiskFormatException(path, $"virtual size {size} is not a positive multiple of {logical} up to 64 TiB", metaRegion.FileOffset);
        var p83 = Item(Page83DataItem, 16, false);
        var page83 = p83.Length >= 16 ? new Guid(p83.AsSpan(0, 16)) : Guid.Empty;

        // BAT
        var chunkRatio = (1L << 23) * logical / blockSize;
        var blocks = (size + blockSize - 1) / blockSize;
        var chunks = (blocks + chunkRatio - 1) / chunkRatio;
        var entries = hasParent ? chunks * (chunkRatio + 1) : blocks + (blocks - 1) / chunkRatio;
        if (entries * 8 > batRegion.Length)
            throw new DiskFormatException(path, $"the BAT region ({batRegion.Length} bytes) is too small for {entries} entries", batRegion.FileOffset);
        var bat = new ulong[entries];
        var batBytes = new byte[Math.Min(entries * 8, 1 << 20)];
        for (long done = 0; done < entries; done += batBytes.Length / 8)
        {
            var n = (int)Math.Min(batBytes.Length / 8, entries - done);
            view.ReadAt(batRegion.FileOffset + done * 8, batBytes.AsSpan(0, n * 8));
            for (var i = 0; i < n; i++)
                bat[done + i] = BinaryPrimitives.ReadUInt64LittleEndian(batBytes.AsSpan(i * 8));
        }

        VirtualDisk? parent = null;
        Dictionary<string, string>? locator = null;
        try
        {
            var disk = new VhdxDisk(view, header, slot, bat, batRegion.FileOffset, size, (int)blockSize, logical, physical,
                hasParent, null, page83) { IsFixed = leaveAllocated && !hasParent };
            var problems = disk.ValidateBat(fixedRegions);
            if (problems.Count > 0)
                throw new DiskFormatException(path, problems[0].Message, problems[0].Offset);
            if (hasParent)
            {
                var li = Item(ParentLocatorItem, 20, true);
                var liEntry = items.First(m => m.Id == ParentLocatorItem);
                locator = ParentLocator.Parse(li, path, metaRegion.FileOffset + liEntry.Offset);
                parent = OpenParentOf(path, locator, options, depth, chain);
                if (parent.Length != size || parent.LogicalSectorSize != logical)
                    throw new DiskFormatException(path, $"the parent {parent.Path} is {parent.Length} bytes of {parent.LogicalSectorSize}-byte sectors, the child {size} of {logical}");
                return new VhdxDisk(view, header, slot, bat, batRegion.FileOffset, size, (int)blockSize, logical, physical,
                    true, parent, page83) { ParentLocatorEntries = locator };
            }
            return disk;
        }
        catch
        {
            parent?.Dispose();
            throw;
        }
    }

    private static VirtualDisk OpenParentOf(string path, Dictionary<string, string> locator, DiskOpenOptions options, int depth, IReadOnlyList<string> chain)
    {
        if (!locator.TryGetValue("parent_linkage", out var linkageText) || !Guid.TryParse(linkageText, out var linkage))
            throw new DiskFormatException(path, "the parent locator has no valid parent_linkage");
        var directory = System.IO.Path.GetDirectoryName(path) ?? "/";
        var candidates = new List<string>();
        if (locator.TryGetValue("relative_path", out var rel) && rel.Length > 0)
            candidates.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, ToLocal(rel))));
        foreach (var key in new[] { "absolute_win32_path", "volume_path" })
        {
            if (!locator.TryGetValue(key, out var abs) || abs.Length == 0 || abs.StartsWith(@"\\?\", StringComparison.Ordinal))
                continue;
            var local = ToLocal(abs);
            if (local.Length >= 2 && local[1] == ':')
                local = System.IO.Path.Combine(directory, System.IO.Path.GetFileName(local)); // C:\x\p.vhdx: try beside the child
            if (System.IO.Path.IsPathRooted(local))
                candidates.Add(System.IO.Path.GetFullPath(local));
        }
        var found = candidates.FirstOrDefault(options.FileSystem.Exists)
            ?? throw new DiskFormatException(path, $"the parent is not found (tried {string.Join(", ", candidates)})");
        var parent = DiskImage.OpenParent(found, options, depth + 1, chain);
        try
        {
            if (parent is not VhdxDisk vp)
                throw new DiskFormatException(path, $"the parent {found} is {parent.Format}, not VHDX");
            if (options.CheckParentIdentity && vp.DataWriteGuid != linkage)
                throw new DiskFormatException(path,
                    $"the parent {found} was modified after the child was made (its DataWriteGuid {vp.DataWriteGuid} is not the child's parent_linkage {linkage})");
            return parent;
        }
        catch
        {
            parent.Dispose();
            throw;
        }
    }

    private static string ToLocal(string windowsPath)
    {
        var p = windowsPath.Replace('\\', '/');
        if (p.StartsWith("./", StringComparison.Ordinal))
            p = p[2..];
        return p;
    }

    private static (VhdxHeader Header, int Slot) ReadHeaders(IImageFile file)
    {
        var b = new byte[HeaderSize];
        var id = new byte[8];
        file.ReadAt(0, id);
        if (!id.AsSpan().SequenceEqual("vhdxfile"u8))
            throw new DiskFormatException(file.Path, "no 'vhdxfile' identifier", 0);
        file.ReadAt(Header1Offset, b);
        var h1 = VhdxHeader.Parse(b);
        file.ReadAt(Header2Offset, b);
        var h2 = VhdxHeader.Parse(b);
        if (h1 is null && h2 is null)
            throw new DiskFormatException(file.Path, "neither VHDX header (at 64 KiB and 128 KiB) has a valid signature and CRC-32C", Header1Offset);
        if (h2 is null || h1 is not null && h1.Sequence >= h2.Sequence)
            return (h1!, 0);
        return (h2, 1);
    }

    private static List<RegionEntry> ReadRegions(IImageFile file)
    {
        var b = new byte[RegionTableSize];
        string? why1 = null, why2;
        foreach (var offset in new[] { RegionTable1Offset, RegionTable2Offset })
        {
            file.ReadAt(offset, b);
            var r = RegionTable.Parse(b, out var why);
            if (r is not null)
                return r;
            if (offset == RegionTable1Offset) why1 = why; else { why2 = why; throw new DiskFormatException(file.Path, $"both region tables are bad ({why1}; {why2})", RegionTable1Offset); }
        }
        throw new InvalidOperationException();
    }

    private static (VhdxHeader, int) WriteHeader(IImageFile file, VhdxHeader current, int currentSlot)
    {
        var next = current with { Sequence = current.Sequence + 1 };
        var slot = 1 - currentSlot;
        file.WriteAt(slot == 0 ? Header1Offset : Header2Offset, next.Serialize());
        file.Flush();
        return (next, slot);
    }

    private static void Replay(IImageFile file, List<VhdxLog.Write> writes, long lastFileOffset)
    {
        if (file.Length < lastFileOffset)
            file.SetLength(lastFileOffset);
        var zeros = new byte[VhdxLog.Sector];
        foreach (var w in writes)
        {
            if (w.Data is not null)
                file.WriteAt(w.FileOffset, w.Data);
            else
                for (long at = 0; at < w.ZeroLength; at += zeros.Length)
                    file.WriteAt(w.FileOffset + at, zeros);
        }
        file.Flush();
    }

    private List<(string Message, long Offset)> ValidateBat(List<(long Start, long End, string What)> regions)
    {
        var problems = new List<(string, long)>();
        var used = new List<(long Start, long End, long Index)>();
        var length = file.Length;
        for (long i = 0; i < bat.Length; i++)
        {
            var isBitmap = (i + 1) % (chunkRatio + 1) == 0;
            var state = State(bat[i]);
            var at = batOffset + i * 8;
            long size;
            if (isBitmap)
            {
                if (state == 0) continue;
                if (state != BlockState.BitmapPresent) { problems.Add(($"sector bitmap entry {i} has invalid state {state}", at)); continue; }
                if (!hasParent) { problems.Add(($"sector bitmap entry {i} is present in an image without a parent", at)); continue; }
                size = SectorBitmapBlockSize;
            }
            else
            {
                if (state is 4 or 5) { problems.Add(($"BAT entry {i} has invalid state {state}", at)); continue; }
                if (state == BlockState.PartiallyPresent && !hasParent) { problems.Add(($"BAT entry {i} is PARTIALLY_PRESENT in an image without a parent", at)); continue; }
                if (state is not (BlockState.FullyPresent or BlockState.PartiallyPresent)) continue;
                size = BlockSize;
                if (state == BlockState.PartiallyPresent)
                {
                    var chunk = (i / (chunkRatio + 1));
                    if (State(bat[BitmapIndex(chunk)]) != BlockState.BitmapPresent)
                        problems.Add(($"BAT entry {i} is PARTIALLY_PRESENT but its chunk has no sector bitmap", at));
                }
            }
            var offset = EntryOffset(bat[i]);
            if (offset < MiB || offset + size > length)
            {
                problems.Add(($"BAT entry {i} points at 0x{offset:x}, beyond the end of the file (0x{length:x}) or into its first MiB", at));
                continue;
            }
            foreach (var r in regions)
                if (offset < r.End && r.Start < offset + size)
                    problems.Add(($"BAT entry {i} (block at 0x{offset:x}) overlaps {r.What}", at));
            used.Add((offset, offset + size, i));
        }
        used.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (var k = 1; k < used.Count; k++)
            if (used[k].Start < used[k - 1].End)
                problems.Add(($"BAT entries {used[k - 1].Index} and {used[k].Index} overlap at file offset 0x{used[k].Start:x}", batOffset + used[k].Index * 8));
        return problems;
    }

    // ---------------------------------------------------------------- create

    internal static VirtualDisk Create(IImageFileSystem fileSystem, string path, DiskCreateOptions create) =>
        CreateCore(fileSystem, path, create.Size, create.VhdxBlockSize == 0 ? DefaultBlockSize : create.VhdxBlockSize,
            create.LogicalSectorSize, create.Fixed, null, null);

    internal static VirtualDisk CreateChild(IImageFileSystem fileSystem, string path, VirtualDisk parent, DiskOpenOptions options)
    {
        if (parent is not VhdxDisk vp)
            throw new DiskFormatException(parent.Path, "a VHDX child needs a VHDX parent");
        var childFull = System.IO.Path.GetFullPath(path);
        var rel = System.IO.Path.GetRelativePath(System.IO.Path.GetDirectoryName(childFull)!, parent.Path);
        if (!rel.StartsWith("..", StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(rel))
            rel = "./" + rel;
        var pairs = new List<(string, string)>
        {
            ("parent_linkage", vp.DataWriteGuid.ToString("B").ToUpperInvariant()),
            ("relative_path", rel.Replace('/', '\\')),
            ("absolute_win32_path", parent.Path.Replace('/', '\\')),
        };
        return CreateCore(fileSystem, childFull, parent.Length, vp.BlockSize, parent.LogicalSectorSize, false, parent, pairs);
    }

    private static VhdxDisk CreateCore(IImageFileSystem fileSystem, string path, long size, int blockSize, int logical,
        bool isFixed, VirtualDisk? parent, List<(string, string)>? locator)
    {
        if (blockSize < MinBlockSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), $"a VHDX block size is a power of two from 1 MiB to 256 MiB, not {blockSize}");
        if (logical != 512 && logical != 4096)
            throw new ArgumentOutOfRangeException(nameof(logical), $"a VHDX logical sector is 512 or 4096 bytes, not {logical}");
        if (size % logical != 0 || size > MaxVirtualSize)
            throw new ArgumentOutOfRangeException(nameof(size), $"a VHDX disk is whole {logical}-byte sectors up to 64 TiB; {size} is not");
        var chunkRatio = (1L << 23) * logical / blockSize;
        var blocks = (size + blockSize - 1) / blockSize;
        var chunks = (blocks + chunkRatio - 1) / chunkRatio;
        var entries = parent is not null ? chunks * (chunkRatio + 1) : blocks + (blocks - 1) / chunkRatio;
        const long logOffset = MiB, logLength = MiB, metaOffset = 2 * MiB, metaLength = MiB, batOffset = 3 * MiB;
        var batLength = AlignUp(entries * 8, MiB);
        var dataStart = batOffset + batLength;

        var id = new byte[64 * 1024];
        "vhdxfile"u8.CopyTo(id);
        System.Text.Encoding.Unicode.GetBytes("PxeKit").CopyTo(id, 8);
        var header = new VhdxHeader(1, Guid.NewGuid(), Guid.NewGuid(), Guid.Empty, 0, 1, (uint)logLength, (ulong)logOffset);
        var regions = RegionTable.Serialize([new RegionEntry(BatRegion, batOffset, (uint)batLength, true),
            new RegionEntry(MetadataRegion, metaOffset, (uint)metaLength, true)]);
        var page83 = Guid.NewGuid();
        var items = new List<(Guid, byte[], bool)>
        {
            (FileParametersItem, U32Pair((uint)blockSize, (isFixed ? 1u : 0u) | (parent is not null ? 2u : 0u)), false),
            (VirtualDiskSizeItem, BitConverter.GetBytes(size), true),
            (Page83DataItem, page83.ToByteArray(), true),
            (LogicalSectorSizeItem, BitConverter.GetBytes(logical), true),
            (PhysicalSectorSizeItem, BitConverter.GetBytes(4096), true),
        };
        if (locator is not null)
            items.Add((ParentLocatorItem, Vhdx.ParentLocator.Build(locator), false));
        var meta = MetadataTable.Build(items, (int)(metaLength / 8)); // table (64 KiB) and items (< 64 KiB); the rest of the region is zero

        var bat = new ulong[entries];
        if (isFixed)
            for (long b = 0; b < blocks; b++)
                bat[b + b / chunkRatio] = ((ulong)((dataStart + b * blockSize) / MiB) << 20) | BlockState.FullyPresent;

        var file = fileSystem.Create(path);
        try
        {
            var end = isFixed ? dataStart + blocks * blockSize : dataStart;
            file.SetLength(end);
            file.WriteAt(0, id);
            file.WriteAt(Header1Offset, header.Serialize());
            file.WriteAt(Header2Offset, (header with { Sequence = 2 }).Serialize());
            file.WriteAt(RegionTable1Offset, regions);
            file.WriteAt(RegionTable2Offset, regions);
            file.WriteAt(metaOffset, meta);
            if (isFixed)
            {
                var chunk = new byte[Math.Min(batLength, MiB)];
                for (long done = 0; done < entries * 8; done += chunk.Length)
                {
                    var n = (int)Math.Min(chunk.Length, entries * 8 - done);
                    for (var i = 0; i < n / 8; i++)
                        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(i * 8), bat[done / 8 + i]);
                    file.WriteAt(batOffset + done, chunk.AsSpan(0, n));
                }
            }
            file.Flush();
            return new VhdxDisk(file, header with { Sequence = 2 }, 1, bat, batOffset, size, blockSize, logical, 4096,
                parent is not null, parent, page83) { IsFixed = isFixed, ParentLocatorEntries = locator?.ToDictionary(p => p.Item1, p => p.Item2) };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static byte[] U32Pair(uint a, uint b)
    {
        var r = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(r, a);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), b);
        return r;
    }

    // ---------------------------------------------------------------- sector bitmaps

    /// <summary>The 4 KiB bitmap sector (file offset) holding the bit of logical sector <paramref name="sector"/>.</summary>
    private long BitmapSectorOffset(long sector, out int bitInSector)
    {
        var sectorsPerChunk = chunkRatio * BlockSize / LogicalSectorSize;
        var chunk = sector / sectorsPerChunk;
        var within = sector % sectorsPerChunk;
        bitInSector = (int)(within % (VhdxLog.Sector * 8));
        return EntryOffset(bat[BitmapIndex(chunk)]) + within / (VhdxLog.Sector * 8) * VhdxLog.Sector;
    }

    private byte[] BitmapSector(long fileOffset)
    {
        if (bitmapCache.TryGetValue(fileOffset, out var s))
            return s;
        if (bitmapCache.Count >= BitmapCacheSectors)
        {
            var clean = bitmapCache.Keys.FirstOrDefault(k => !dirtyBitmapSectors.Contains(k), -1);
            if (clean < 0)
            {
                FlushMetadata();
                clean = bitmapCache.Keys.First();
            }
            bitmapCache.Remove(clean);
        }
        s = new byte[VhdxLog.Sector];
        file.ReadAt(fileOffset, s);
        bitmapCache[fileOffset] = s;
        return s;
    }

    private bool SectorPresent(long sector)
    {
        var off = BitmapSectorOffset(sector, out var bit);
        return (BitmapSector(off)[bit >> 3] & (1 << (bit & 7))) != 0;
    }

    private void MarkPresent(long firstSector, long count)
    {
        for (var s = firstSector; s < firstSector + count; s++)
        {
            var off = BitmapSectorOffset(s, out var bit);
            var b = BitmapSector(off);
            var mask = (byte)(1 << (bit & 7));
            if ((b[bit >> 3] & mask) == 0)
            {
                b[bit >> 3] |= mask;
                dirtyBitmapSectors.Add(off);
            }
        }
    }

    // ---------------------------------------------------------------- read / write

    public override void Read(long offset, Span<byte> buffer)
    {
        CheckRange(offset, buffer.Length);
        while (!buffer.IsEmpty)
        {
            var block = offset / BlockSize;
            var within = offset % BlockSize;
            var n = (int)Math.Min(buffer.Length, BlockSize - within);
            ReadInBlock(block, within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    private void ReadInBlock(long block, long within, Span<byte> buffer)
    {
        var entry = bat[PayloadIndex(block)];
        var virtualOffset = block * BlockSize + within;
        switch (State(entry))
        {
            case BlockState.FullyPresent:
                ReadFile(EntryOffset(entry) + within, buffer);
                return;
            case BlockState.PartiallyPresent:
                var sector = virtualOffset / LogicalSectorSize;
                var done = 0;
                while (done < buffer.Length)
                {
                    var present = SectorPresent(sector);
                    var runEnd = done;
                    var s = sector;
                    while (runEnd < buffer.Length && SectorPresent(s) == present)
                    {
                        var sectorEnd = (int)((s + 1) * LogicalSectorSize - virtualOffset);
                        runEnd = Math.Min(buffer.Length, sectorEnd);
                        s++;
                    }
                    var part = buffer[done..runEnd];
                    if (present)
                        ReadFile(EntryOffset(entry) + within + done, part);
                    else
                        Parent!.Read(virtualOffset + done, part);
                    done = runEnd;
                    sector = s;
                }
                return;
            case BlockState.Zero:
                buffer.Clear();
                return;
            default:
                if (Parent is not null)
                    Parent.Read(virtualOffset, buffer);
                else
                    buffer.Clear();
                return;
        }
    }

    private void ReadFile(long fileOffset, Span<byte> buffer)
    {
        var n = file.ReadAt(fileOffset, buffer);
        if (n < buffer.Length)
            throw new DiskFormatException(Path, $"a data block ends past the end of the file (truncated?)", fileOffset + n);
    }

    public override void Write(long offset, ReadOnlySpan<byte> buffer)
    {
        if (!file.CanWrite)
            throw new InvalidOperationException($"{Path} is open read-only");
        CheckRange(offset, buffer.Length);
        if (buffer.IsEmpty)
            return;
        if (!headerUpdated)
        {
            // First write since open: new write GUIDs and an active log GUID, in the non-current header slot.
            (header, currentHeaderSlot) = WriteHeader(file, header with
            {
                FileWriteGuid = Guid.NewGuid(), DataWriteGuid = Guid.NewGuid(), LogGuid = Guid.NewGuid(),
            }, currentHeaderSlot);
            headerUpdated = true;
        }
        // Partial logical sectors of a differencing child are completed from what reads there now.
        var ls = LogicalSectorSize;
        if (hasParent && (offset % ls != 0 || buffer.Length % ls != 0))
        {
            var start = offset / ls * ls;
            var end = AlignUp(offset + buffer.Length, ls);
            var whole = new byte[end - start];
            Read(start, whole.AsSpan(0, ls));
            Read(end - ls, whole.AsSpan(whole.Length - ls));
            buffer.CopyTo(whole.AsSpan((int)(offset - start)));
            offset = start;
            buffer = whole;
        }
        while (!buffer.IsEmpty)
        {
            var block = offset / BlockSize;
            var within = offset % BlockSize;
            var n = (int)Math.Min(buffer.Length, BlockSize - within);
            WriteInBlock(block, within, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    private void WriteInBlock(long block, long within, ReadOnlySpan<byte> data)
    {
        var index = PayloadIndex(block);
        var entry = bat[index];
        var state = State(entry);
        if (state is not (BlockState.FullyPresent or BlockState.PartiallyPresent))
        {
            // New block past the end of the file: zeros until written, and nothing points at it until the log
            // entry of the next flush. In a child it is PARTIALLY_PRESENT (the rest reads from the parent) unless
            // the block was ZERO (then the rest is the zeros of the fresh space).
            var fileOffset = AllocateSpace(BlockSize);
            if (hasParent && state != BlockState.Zero)
            {
                EnsureBitmap(block / chunkRatio);
                state = BlockState.PartiallyPresent;
            }
            else
                state = BlockState.FullyPresent;
            entry = ((ulong)(fileOffset / MiB) << 20) | (uint)state;
            SetBat(index, entry);
        }
        file.WriteAt(EntryOffset(entry) + within, data);
        if (state == BlockState.PartiallyPresent)
            MarkPresent((block * BlockSize + within) / LogicalSectorSize, data.Length / LogicalSectorSize);
    }

    private void EnsureBitmap(long chunk)
    {
        var index = BitmapIndex(chunk);
        if (State(bat[index]) == BlockState.BitmapPresent)
            return;
        var offset = AllocateSpace(SectorBitmapBlockSize);
        SetBat(index, ((ulong)(offset / MiB) << 20) | BlockState.BitmapPresent);
    }

    private long AllocateSpace(long size)
    {
        var offset = Math.Max(fileEnd, AlignUp(file.Length, MiB));
        file.SetLength(offset + size);
        fileEnd = offset + size;
        return offset;
    }

    private void SetBat(long index, ulong entry)
    {
        bat[index] = entry;
        dirtyBatSectors.Add(index * 8 / VhdxLog.Sector);
    }

    public override void Flush()
    {
        if (!file.CanWrite)
            return;
        FlushMetadata();
    }

    /// <summary>Data fsync, then the log entries of every changed BAT and bitmap sector (fsync), then those
    /// sectors in place (fsync).</summary>
    private void FlushMetadata()
    {
        if (dirtyBatSectors.Count == 0 && dirtyBitmapSectors.Count == 0)
        {
            file.Flush();
            return;
        }
        var sectors = new List<(long FileOffset, byte[] Data)>();
        foreach (var s in dirtyBatSectors.Order())
        {
            var b = new byte[VhdxLog.Sector];
            var first = s * (VhdxLog.Sector / 8);
            for (var i = 0; i < VhdxLog.Sector / 8 && first + i < bat.Length; i++)
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(i * 8), bat[first + i]);
            // Entries past the BAT's used part keep what the file has (zero in ours).
            sectors.Add((batOffset + s * VhdxLog.Sector, b));
        }
        foreach (var off in dirtyBitmapSectors.Order())
            sectors.Add((off, (byte[])bitmapCache[off].Clone()));
        file.Flush();
        var fileLength = (ulong)file.Length;
        for (var start = 0; start < sectors.Count; start += VhdxLog.MaxDescriptorsPerEntry)
        {
            var batch = sectors.GetRange(start, Math.Min(VhdxLog.MaxDescriptorsPerEntry, sectors.Count - start));
            var entry = VhdxLog.Build(header.LogGuid, ++logSequence, 0, fileLength, fileLength, batch);
            file.WriteAt((long)header.LogOffset, entry);
            file.Flush();
            foreach (var (off, data) in batch)
                file.WriteAt(off, data);
            file.Flush();
        }
        dirtyBatSectors.Clear();
        dirtyBitmapSectors.Clear();
    }

    // ---------------------------------------------------------------- allocation, check

    public override IEnumerable<(long Offset, long Length)> GetAllocatedRanges()
    {
        long runStart = -1, runEnd = -1;
        var ranges = new List<(long, long)>();
        void Add(long start, long end)
        {
            end = Math.Min(end, Length);
            if (runEnd == start) { runEnd = end; return; }
            if (runStart >= 0) ranges.Add((runStart, runEnd - runStart));
            runStart = start;
            runEnd = end;
        }
        for (long b = 0; b < payloadBlocks; b++)
        {
            var state = State(bat[PayloadIndex(b)]);
            if (state == BlockState.FullyPresent || (state == BlockState.Zero && hasParent))
                Add(b * BlockSize, (b + 1) * BlockSize);
            else if (state == BlockState.PartiallyPresent)
            {
                var first = b * BlockSize / LogicalSectorSize;
                var count = Math.Min(BlockSize, Length - b * BlockSize) / LogicalSectorSize;
                for (var s = first; s < first + count; s++)
                    if (SectorPresent(s))
                        Add(s * LogicalSectorSize, (s + 1) * LogicalSectorSize);
            }
        }
        if (runStart >= 0) ranges.Add((runStart, runEnd - runStart));
        return ranges;
    }

    public override DiskAllocation GetAllocation()
    {
        long allocated = 0;
        for (long b = 0; b < payloadBlocks; b++)
            if (State(bat[PayloadIndex(b)]) is BlockState.FullyPresent or BlockState.PartiallyPresent)
                allocated++;
        return new DiskAllocation(Length, file.Length, BlockSize, payloadBlocks, allocated);
    }

    public override IReadOnlyList<string> Check()
    {
        var problems = new List<string>();
        var b = new byte[HeaderSize];
        file.ReadAt(Header1Offset, b);
        if (VhdxHeader.Parse(b) is null) problems.Add("header 1 (at 0x10000) has a bad signature or CRC-32C; header 2 is used");
        file.ReadAt(Header2Offset, b);
        if (VhdxHeader.Parse(b) is null) problems.Add("header 2 (at 0x20000) has a bad signature or CRC-32C; header 1 is used");
        var rt = new byte[RegionTableSize];
        file.ReadAt(RegionTable2Offset, rt);
        if (RegionTable.Parse(rt, out var why) is null) problems.Add($"the second region table (at 0x40000) is bad: {why}");
        if (!file.CanWrite && header.LogGuid != Guid.Empty && file is LogOverlayFile)
            problems.Add("the log is dirty (the image was not closed cleanly); it is replayed when opened writable");
        var regions = new List<(long, long, string)> { (0, MiB, "the headers"), ((long)header.LogOffset, (long)header.LogOffset + header.LogLength, "the log") };
        problems.AddRange(ValidateBat(regions).Select(p => $"{p.Message} (file offset 0x{p.Offset:x})"));
        return problems;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        try
        {
            if (file.CanWrite && headerUpdated)
            {
                FlushMetadata();
                // Clean close: everything is applied, so the log is no longer needed.
                (header, currentHeaderSlot) = WriteHeader(file, header with { LogGuid = Guid.Empty }, currentHeaderSlot);
            }
        }
        finally
        {
            file.Dispose();
            Parent?.Dispose();
        }
    }
}
