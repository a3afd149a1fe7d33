using System.Buffers.Binary;

namespace PxeKit.Formats.Disks.Vhd;

/// <summary>
/// Reads and validates the structure of a VHD file (footers, dynamic header, BAT, parent locators) without
/// allocating from untrusted sizes: every length is checked against the file and the format's limits first.
/// Used by open (which stops at the first fatal problem) and by <see cref="VhdDisk.Check"/> (which lists them all).
/// </summary>
internal sealed class VhdLayout
{
    private const int SectorSize = 512;
    private const uint Unallocated = 0xFFFFFFFF;
    private const int MinBlockSize = 4096;
    private const int MaxBlockSize = 256 * 1024 * 1024;

    /// <summary>The most BAT entries held in memory (32 MiB): 2040 GiB in 256 KiB blocks. Windows and qemu use
    /// 2 MiB blocks (1 044 480 entries at the size limit); only a hostile or absurd image needs more.</summary>
    public const long MaxBatEntries = 1L << 23;

    /// <summary>The longest locator path we read: 32 767 UTF-16 characters, Windows' path limit.</summary>
    private const int MaxLocatorBytes = 65534;

    public required VhdFooter Footer { get; init; }
    public int FooterLength { get; init; } = VhdFooter.Size;

    /// <summary>The footer as stored (512 bytes, reserved bytes included), rewritten verbatim when the file grows.</summary>
    public byte[] FooterBytes { get; init; } = [];
    public VhdDynamicHeader? Header { get; init; }
    public uint[] Bat { get; init; } = [];
    public long NextFree { get; init; }

    /// <summary>Problems that do not stop the image from being read correctly (a lost trailing footer, a footer
    /// copy that differs); open keeps them for <see cref="VhdDisk.Check"/>.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Where a problem goes: open throws on the first fatal one, Check collects them.</summary>
    public sealed class Sink(string path, bool collect)
    {
        public List<string> Problems { get; } = [];

        public void Fatal(string message, long offset = -1)
        {
            if (!collect)
                throw new DiskFormatException(path, message, offset);
            Problems.Add(offset >= 0 ? $"{message} (file offset 0x{offset:x})" : message);
        }

        public bool Collecting => collect;
    }

    public static VhdLayout? Load(IImageFile file, Sink sink)
    {
        var length = file.Length;
        if (length < VhdFooter.Size - 1)
        {
            sink.Fatal($"the file is {length} bytes, shorter than a VHD footer (512 bytes)");
            return null;
        }

        // The trailing footer: 512 bytes at the end, or 511 on old fixed images.
        Span<byte> buffer = stackalloc byte[VhdFooter.Size];
        var trailingOffset = length - VhdFooter.Size;
        var footerLength = VhdFooter.Size;
        VhdFooter? trailing = null;
        string trailingError;
        if (trailingOffset >= 0 && Read(file, trailingOffset, buffer) && VhdFooter.TryParse(buffer, out var t, out trailingError))
            trailing = t;
        else
        {
            trailingError = trailingOffset < 0 ? "the file is shorter than 512 bytes" : VhdFooter.TryParse(Exact(file, trailingOffset, buffer), out _, out var e) ? "" : e;
            if (Read(file, length - 511, buffer[..511]) && VhdFooter.TryParse(buffer[..511], out var shortFooter, out _) && shortFooter.DiskType == VhdDiskType.Fixed)
            {
                trailing = shortFooter;
                trailingOffset = length - 511;
                footerLength = 511;
            }
        }

        VhdFooter? copy = null;
        var copyError = "";
        if (length >= 2 * VhdFooter.Size && Read(file, 0, buffer) && VhdFooter.TryParse(buffer, out var c, out copyError))
            copy = c;

        var warnings = new List<string>();
        VhdFooter footer;
        long dataEnd;
        var footerBytes = new byte[VhdFooter.Size];
        if (trailing is not null)
        {
            footer = trailing;
            dataEnd = trailingOffset;
            file.ReadAt(trailingOffset, footerBytes.AsSpan(0, footerLength));
            if (footer.DiskType != VhdDiskType.Fixed)
            {
                if (copy is null)
                    warnings.Add($"the footer copy at offset 0 is unusable: {copyError}");
                else if (!SameFooter(copy, footer))
                    warnings.Add("the footer copy at offset 0 differs from the footer at the end of the file");
            }
        }
        else if (copy is not null && copy.DiskType is VhdDiskType.Dynamic or VhdDiskType.Differencing)
        {
            // A dynamic image whose end was lost (a crash of a writer that overwrote its footer before writing the
            // new one, or a truncated copy): the copy at 0 has everything we need.
            footer = copy;
            dataEnd = length;
            file.ReadAt(0, footerBytes);
            warnings.Add($"the footer at the end of the file is missing or corrupt ({trailingError}); using the copy at offset 0");
        }
        else
        {
            sink.Fatal($"not a usable VHD: {trailingError}", Math.Max(0, length - VhdFooter.Size));
            return null;
        }

        if (footer.DiskType is not (VhdDiskType.Fixed or VhdDiskType.Dynamic or VhdDiskType.Differencing))
        {
            sink.Fatal($"disk type {(uint)footer.DiskType} is not fixed (2), dynamic (3) or differencing (4)", dataEnd + 0x3c);
            return null;
        }
        var size = footer.CurrentSize;
        if (size == 0 || size % SectorSize != 0 || size > VhdFooter.MaxDiskSize)
        {
            sink.Fatal($"current size {size} is not a whole number of sectors between 512 bytes and 2040 GiB (the VHD limit)", dataEnd + 0x30);
            return null;
        }

        if (footer.DiskType == VhdDiskType.Fixed)
        {
            if ((ulong)dataEnd < size)
            {
                sink.Fatal($"the footer says {size} bytes of data but only {dataEnd} precede it (truncated image)", dataEnd);
                return null;
            }
            var layout = new VhdLayout { Footer = footer, FooterLength = footerLength, FooterBytes = footerBytes, NextFree = dataEnd };
            layout.Warnings.AddRange(warnings);
            return layout;
        }
        return LoadDynamic(file, sink, footer, footerBytes, dataEnd, warnings);
    }

    private static VhdLayout? LoadDynamic(IImageFile file, VhdLayout.Sink sink, VhdFooter footer, byte[] footerBytes, long dataEnd, List<string> warnings)
    {
        var headerOffset = footer.DataOffset;
        if (headerOffset < VhdFooter.Size || headerOffset % SectorSize != 0 || headerOffset > (ulong)dataEnd || (long)headerOffset > dataEnd - VhdDynamicHeader.Size)
        {
            sink.Fatal($"the dynamic header offset {headerOffset} is not a sector inside the file (header needs 1024 bytes, data ends at {dataEnd})", dataEnd + 0x10);
            return null;
        }
        var headerStart = (long)headerOffset;
        var headerBytes = new byte[VhdDynamicHeader.Size];
        var headerRead = file.ReadAt(headerStart, headerBytes);
        if (!VhdDynamicHeader.TryParse(headerBytes.AsSpan(0, headerRead), out var header, out var headerError))
        {
            sink.Fatal(headerError, headerStart);
            return null;
        }

        var blockSize = header.BlockSize;
        if (blockSize < MinBlockSize || blockSize > MaxBlockSize || (blockSize & (blockSize - 1)) != 0)
        {
            sink.Fatal($"block size {blockSize} is not a power of two from 4 KiB to 256 MiB", headerStart + 0x20);
            return null;
        }
        var needed = (long)((footer.CurrentSize + blockSize - 1) / blockSize);
        if (header.MaxTableEntries < needed)
        {
            sink.Fatal($"the BAT has {header.MaxTableEntries} entries of {blockSize} bytes, too few for the {footer.CurrentSize}-byte disk ({needed} needed)", headerStart + 0x1c);
            return null;
        }
        if (needed > MaxBatEntries)
        {
            sink.Fatal($"{needed} blocks of {blockSize} bytes is more BAT than we keep in memory ({MaxBatEntries} entries, 2040 GiB in 256 KiB blocks)", headerStart + 0x20);
            return null;
        }
        var tableOffset = header.TableOffset;
        var batBytes = RoundUp((long)header.MaxTableEntries * 4, SectorSize);
        if (tableOffset % SectorSize != 0 || tableOffset < VhdFooter.Size || tableOffset > (ulong)dataEnd || batBytes > dataEnd - (long)tableOffset)
        {
            sink.Fatal($"the BAT ({header.MaxTableEntries} entries, {batBytes} bytes at {tableOffset}) does not fit in the file (data ends at {dataEnd})", headerStart + 0x10);
            return null;
        }
        var batStart = (long)tableOffset;
        if (Overlaps(batStart, batBytes, headerStart, VhdDynamicHeader.Size))
        {
            sink.Fatal($"the BAT at {batStart} overlaps the dynamic header at {headerStart}", headerStart + 0x10);
            return null;
        }

        var bitmapSize = (blockSize / SectorSize / 8 + SectorSize - 1) / SectorSize * SectorSize;
        var blockTotal = bitmapSize + (long)blockSize;

        // Regions no block may overlap: footer copy, header, BAT, and the parent locators' data.
        var reserved = new List<(long Start, long Length, string What)>
        {
            (0, VhdFooter.Size, "the footer copy"),
            (headerStart, VhdDynamicHeader.Size, "the dynamic header"),
            (batStart, batBytes, "the BAT"),
        };
        var end = Math.Max(headerStart + VhdDynamicHeader.Size, batStart + batBytes);
        if (footer.DiskType == VhdDiskType.Differencing)
        {
            for (var i = 0; i < header.Locators.Length; i++)
            {
                var locator = header.Locators[i];
                if (locator.IsEmpty || locator.DataLength == 0)
                    continue;
                if (locator.DataLength > MaxLocatorBytes || locator.DataOffset > (ulong)dataEnd || locator.DataLength > dataEnd - (long)locator.DataOffset)
                {
                    sink.Fatal($"parent locator {i} ({locator.DataLength} bytes at {locator.DataOffset}) lies outside the file or is absurdly long", headerStart + 0x240 + i * ParentLocator.Size);
                    continue;
                }
                reserved.Add(((long)locator.DataOffset, locator.DataLength, $"parent locator {i}"));
                end = Math.Max(end, (long)locator.DataOffset + locator.DataLength);
            }
        }

        // The BAT, read in 64 KiB pieces; only the entries the disk uses are kept (4 bytes per block).
        var bat = new uint[needed];
        var chunk = new byte[65536];
        for (long done = 0; done < needed;)
        {
            var count = (int)Math.Min(chunk.Length / 4, needed - done);
            if (!Read(file, batStart + done * 4, chunk.AsSpan(0, count * 4)))
            {
                sink.Fatal("the BAT is truncated", batStart + done * 4);
                return null;
            }
            for (var i = 0; i < count; i++)
                bat[done + i] = BinaryPrimitives.ReadUInt32BigEndian(chunk.AsSpan(i * 4));
            done += count;
        }

        var starts = new List<long>();
        var indices = new List<int>();
        var fatal = false;
        for (var block = 0; block < bat.Length; block++)
        {
            if (bat[block] == Unallocated)
                continue;
            var start = (long)bat[block] * SectorSize;
            var entryOffset = batStart + block * 4L;
            if (start + bitmapSize > dataEnd)
            {
                sink.Fatal($"BAT entry {block} points at {start}, past the end of the data ({dataEnd}): the image has been truncated or the BAT is corrupt", entryOffset);
                fatal = true;
                continue;
            }
            if (start + blockTotal > dataEnd)
            {
                sink.Fatal($"block {block} at {start} ({blockTotal} bytes) runs past the end of the data ({dataEnd}) into the footer", entryOffset);
                fatal = true;
                continue;
            }
            foreach (var (rStart, rLength, what) in reserved)
            {
                if (Overlaps(start, blockTotal, rStart, rLength))
                {
                    sink.Fatal($"block {block} at {start} overlaps {what} at {rStart}", entryOffset);
                    fatal = true;
                }
            }
            starts.Add(start);
            indices.Add(block);
            end = Math.Max(end, start + blockTotal);
        }
        var sortedStarts = starts.ToArray();
        var sortedIndices = indices.ToArray();
        Array.Sort(sortedStarts, sortedIndices);
        for (var i = 1; i < sortedStarts.Length; i++)
        {
            if (sortedStarts[i] < sortedStarts[i - 1] + blockTotal)
            {
                sink.Fatal($"blocks {sortedIndices[i - 1]} and {sortedIndices[i]} overlap (at {sortedStarts[i - 1]} and {sortedStarts[i]})", batStart + sortedIndices[i] * 4L);
                fatal = true;
            }
        }
        if (fatal)
            return null;

        var layout = new VhdLayout
        {
            Footer = footer,
            FooterBytes = footerBytes,
            Header = header,
            Bat = bat,
            NextFree = RoundUp(Math.Max(end, dataEnd), SectorSize),
        };
        layout.Warnings.AddRange(warnings);
        return layout;
    }

    private static bool SameFooter(VhdFooter a, VhdFooter b) =>
        a.DiskType == b.DiskType && a.CurrentSize == b.CurrentSize && a.DataOffset == b.DataOffset
        && a.UniqueId.AsSpan().SequenceEqual(b.UniqueId) && a.Checksum == b.Checksum;

    private static bool Overlaps(long aStart, long aLength, long bStart, long bLength) =>
        aStart < bStart + bLength && bStart < aStart + aLength;

    private static long RoundUp(long value, long unit) => (value + unit - 1) / unit * unit;

    private static bool Read(IImageFile file, long offset, Span<byte> buffer) =>
        offset >= 0 && file.ReadAt(offset, buffer) == buffer.Length;

    private static ReadOnlySpan<byte> Exact(IImageFile file, long offset, Span<byte> buffer)
    {
        var n = offset >= 0 ? file.ReadAt(offset, buffer) : 0;
        return buffer[..n];
    }
}
