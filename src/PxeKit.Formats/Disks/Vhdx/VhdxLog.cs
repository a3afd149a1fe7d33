using System.Buffers.Binary;

namespace PxeKit.Formats.Disks.Vhdx;

/// <summary>
/// The VHDX metadata log. Reading: <see cref="FindActive"/> scans the log for valid entries (signature "loge",
/// CRC-32C over the whole entry, the header's LogGuid, data sectors whose sequence halves match) and takes the
/// chain of contiguous sequence numbers that ends in the highest one. Writing: every BAT or sector-bitmap update
/// is one entry, written and fsynced before the sectors it names are touched, then applied and fsynced; each
/// entry is its own sequence (its tail is itself) because the previous one was fully applied before it was
/// written, so replaying the newest valid entry again is always harmless.
/// </summary>
internal static class VhdxLog
{
    public const int Sector = 4096;
    public const int MaxDescriptorsPerEntry = (Sector - 64) / 32;

    public readonly record struct Write(long FileOffset, byte[]? Data, long ZeroLength);

    public sealed record Entry(long LogOffset, ulong Sequence, uint Tail, uint Length, ulong FlushedFileOffset,
        ulong LastFileOffset, List<Write> Writes);

    /// <summary>Parses the entry at <paramref name="at"/> (offset within the log); null if it is not a valid one.</summary>
    private static Entry? TryParse(IImageFile file, long logOffset, uint logLength, uint at, Guid logGuid)
    {
        if (at % Sector != 0 || at + (long)Sector > logLength)
            return null;
        var first = new byte[Sector];
        if (file.ReadAt(logOffset + at, first) != Sector || !first.AsSpan(0, 4).SequenceEqual("loge"u8))
            return null;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(8));
        var tail = BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(12));
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(16));
        var count = BinaryPrimitives.ReadUInt32LittleEndian(first.AsSpan(24));
        if (length == 0 || length % Sector != 0 || length > logLength || sequence == 0 || tail % Sector != 0 || tail >= logLength)
            return null;
        if (new Guid(first.AsSpan(32, 16)) != logGuid)
            return null;
        var descriptorSectors = (64L + 32L * count + Sector - 1) / Sector;
        if (count > (length / Sector) * 128 || descriptorSectors * Sector > length)
            return null;
        // Entries are not wrapped by our writer; a wrapped entry (allowed by the spec) is read around the end.
        var entry = new byte[length];
        for (long done = 0; done < length; done += Sector)
        {
            var pos = (at + done) % logLength;
            if (file.ReadAt(logOffset + pos, entry.AsSpan((int)done, Sector)) != Sector)
                return null;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(entry.AsSpan(4)) != Crc32C.ComputeWithZeroField(entry, 4))
            return null;
        var writes = new List<Write>();
        var dataSector = (int)descriptorSectors;
        for (var i = 0; i < count; i++)
        {
            var d = entry.AsSpan(64 + i * 32, 32);
            var fileOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(d[16..]);
            if (BinaryPrimitives.ReadUInt64LittleEndian(d[24..]) != sequence || fileOffset < 0 || fileOffset % Sector != 0)
                return null;
            if (d[..4].SequenceEqual("zero"u8))
            {
                var zeroLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
                if (zeroLength <= 0 || zeroLength % Sector != 0)
                    return null;
                writes.Add(new Write(fileOffset, null, zeroLength));
            }
            else if (d[..4].SequenceEqual("desc"u8))
            {
                if ((long)(dataSector + 1) * Sector > length)
                    return null;
                var s = entry.AsSpan(dataSector * Sector, Sector);
                if (!s[..4].SequenceEqual("data"u8) ||
                    BinaryPrimitives.ReadUInt32LittleEndian(s[4..]) != (uint)(sequence >> 32) ||
                    BinaryPrimitives.ReadUInt32LittleEndian(s[4092..]) != (uint)sequence)
                    return null;
                var data = new byte[Sector];
                d.Slice(8, 8).CopyTo(data);
                s.Slice(8, 4084).CopyTo(data.AsSpan(8));
                d.Slice(4, 4).CopyTo(data.AsSpan(4092));
                writes.Add(new Write(fileOffset, data, 0));
                dataSector++;
            }
            else
                return null;
        }
        return new Entry(at, sequence, tail, length, BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(48)),
            BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(56)), writes);
    }

    /// <summary>The active sequence: the longest run of contiguous sequence numbers, each entry following the
    /// last, ending in the highest sequence number found; its entries in order. Empty if the log holds none.
    /// Bounded: each start is followed at most logLength/4096 steps.</summary>
    public static List<Entry> FindActive(IImageFile file, long logOffset, uint logLength, Guid logGuid)
    {
        var best = new List<Entry>();
        var byOffset = new Dictionary<uint, Entry?>();
        Entry? Get(uint at)
        {
            if (!byOffset.TryGetValue(at, out var e))
                byOffset[at] = e = TryParse(file, logOffset, logLength, at, logGuid);
            return e;
        }
        for (uint start = 0; start < logLength; start += Sector)
        {
            var first = Get(start);
            if (first is null)
                continue;
            var run = new List<Entry> { first };
            var at = (uint)((start + (long)first.Length) % logLength);
            var steps = logLength / Sector;
            while (steps-- > 0)
            {
                var next = Get(at);
                if (next is null || next.Sequence != run[^1].Sequence + 1 || at == start)
                    break;
                run.Add(next);
                at = (uint)((at + (long)next.Length) % logLength);
            }
            if (best.Count == 0 || run[^1].Sequence > best[^1].Sequence)
                best = run;
        }
        // The sequence starts at the tail named by its last entry.
        if (best.Count > 0)
        {
            var tail = best[^1].Tail;
            var index = best.FindIndex(e => e.LogOffset == tail);
            if (index > 0)
                best = best[index..];
        }
        return best;
    }

    /// <summary>Serialises one entry of data-sector writes (each 4 KiB at a 4 KiB-aligned file offset).</summary>
    public static byte[] Build(Guid logGuid, ulong sequence, uint tail, ulong flushedFileOffset, ulong lastFileOffset,
        IReadOnlyList<(long FileOffset, byte[] Data)> writes)
    {
        if (writes.Count > MaxDescriptorsPerEntry)
            throw new ArgumentOutOfRangeException(nameof(writes));
        var length = Sector * (1 + writes.Count);
        var b = new byte[length];
        "loge"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), tail);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), (uint)writes.Count);
        logGuid.TryWriteBytes(b.AsSpan(32));
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), flushedFileOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), lastFileOffset);
        for (var i = 0; i < writes.Count; i++)
        {
            var d = b.AsSpan(64 + i * 32, 32);
            var data = writes[i].Data;
            "desc"u8.CopyTo(d);
            data.AsSpan(4092, 4).CopyTo(d[4..]);
            data.AsSpan(0, 8).CopyTo(d[8..]);
            BinaryPrimitives.WriteUInt64LittleEndian(d[16..], (ulong)writes[i].FileOffset);
            BinaryPrimitives.WriteUInt64LittleEndian(d[24..], sequence);
            var s = b.AsSpan(Sector * (1 + i), Sector);
            "data"u8.CopyTo(s);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)(sequence >> 32));
            data.AsSpan(8, 4084).CopyTo(s[8..]);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4092..], (uint)sequence);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), Crc32C.ComputeWithZeroField(b, 4));
        return b;
    }
}

/// <summary>
/// A read-only view of an image file with a dirty log's writes laid over it in memory: how a dirty image is
/// read without writing to it. Holds only the log's sectors (at most the log's length).
/// </summary>
internal sealed class LogOverlayFile(IImageFile inner, List<VhdxLog.Write> writes) : IImageFile
{
    public string Path => inner.Path;
    public bool CanWrite => false;
    public long Length => Math.Max(inner.Length, writes.Count == 0 ? 0 : writes.Max(w => w.FileOffset + (w.Data?.Length ?? w.ZeroLength)));

    public int ReadAt(long offset, Span<byte> buffer)
    {
        var n = inner.ReadAt(offset, buffer);
        var length = Length;
        var total = (int)Math.Max(0, Math.Min(buffer.Length, length - offset));
        buffer[n..total].Clear();
        foreach (var w in writes)
        {
            var wLength = w.Data?.Length ?? w.ZeroLength;
            var from = Math.Max(offset, w.FileOffset);
            var to = Math.Min(offset + total, w.FileOffset + wLength);
            if (from >= to)
                continue;
            var dest = buffer.Slice((int)(from - offset), (int)(to - from));
            if (w.Data is null)
                dest.Clear();
            else
                w.Data.AsSpan((int)(from - w.FileOffset), (int)(to - from)).CopyTo(dest);
        }
        return total;
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> buffer) => throw new UnauthorizedAccessException($"{Path} is open read-only");
    public void SetLength(long length) => throw new UnauthorizedAccessException($"{Path} is open read-only");
    public void Flush() { }
    public void Dispose() => inner.Dispose();
}
