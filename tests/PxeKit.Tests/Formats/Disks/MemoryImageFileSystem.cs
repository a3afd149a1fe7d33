using PxeKit.Formats.Disks;

namespace PxeKit.Tests.Formats.Disks;

/// <summary>
/// Image files in memory, sparse (64 KiB pages, absent pages read as zeros, so a "40 GiB" dynamic image costs what
/// it holds), with a journal of every write, length change and flush. <see cref="CrashAfter"/> rebuilds the files as
/// they would be on disk had the machine stopped after the first N operations: the crash tests cut a write sequence
/// at every step and open what is left.
/// </summary>
public sealed class MemoryImageFileSystem : IImageFileSystem
{
    private readonly Dictionary<string, SparseBytes> files = new(StringComparer.Ordinal);
    private readonly List<Operation> journal = [];

    public enum OperationKind { Write, SetLength, Flush }

    public readonly record struct Operation(OperationKind Kind, string Path, long Offset, byte[]? Data, long Length);

    /// <summary>Every operation since <see cref="StartJournal"/>, in order.</summary>
    public IReadOnlyList<Operation> Journal => journal;

    public bool Recording { get; private set; }

    /// <summary>A snapshot of the files now, from which <see cref="CrashAfter"/> replays the journal.</summary>
    private Dictionary<string, SparseBytes>? baseline;

    public void StartJournal()
    {
        baseline = files.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
        journal.Clear();
        Recording = true;
    }

    /// <summary>The files as they were at <see cref="StartJournal"/> plus the first <paramref name="operations"/>
    /// journal entries, as a new file system.</summary>
    public MemoryImageFileSystem CrashAfter(int operations)
    {
        if (baseline is null)
            throw new InvalidOperationException("StartJournal first");
        var crashed = new MemoryImageFileSystem();
        foreach (var (path, bytes) in baseline)
            crashed.files[path] = bytes.Clone();
        for (var i = 0; i < operations; i++)
        {
            var op = journal[i];
            if (!crashed.files.TryGetValue(op.Path, out var file))
                crashed.files[op.Path] = file = new SparseBytes();
            switch (op.Kind)
            {
                case OperationKind.Write: file.Write(op.Offset, op.Data!); break;
                case OperationKind.SetLength: file.SetLength(op.Length); break;
            }
        }
        return crashed;
    }

    public void Add(string path, byte[] content)
    {
        var bytes = new SparseBytes();
        bytes.Write(0, content);
        files[Path.GetFullPath(path)] = bytes;
    }

    public byte[] ReadAll(string path)
    {
        var file = files[Path.GetFullPath(path)];
        var content = new byte[file.Length];
        file.Read(0, content);
        return content;
    }

    public long LengthOf(string path) => files[Path.GetFullPath(path)].Length;

    /// <summary>A cheap fingerprint of a file (to check that a parent never changes).</summary>
    public string Hash(string path)
    {
        var file = files[Path.GetFullPath(path)];
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var chunk = new byte[65536];
        for (long offset = 0; offset < file.Length; offset += chunk.Length)
        {
            var n = (int)Math.Min(chunk.Length, file.Length - offset);
            file.Read(offset, chunk.AsSpan(0, n));
            sha.AppendData(chunk, 0, n);
        }
        return Convert.ToHexString(sha.GetHashAndReset()) + ":" + file.Length;
    }

    /// <summary>Corrupts or edits bytes of a file directly (hostile-image tests).</summary>
    public void Poke(string path, long offset, ReadOnlySpan<byte> bytes) => files[Path.GetFullPath(path)].Write(offset, bytes);

    public void Truncate(string path, long length) => files[Path.GetFullPath(path)].SetLength(length);

    public bool Exists(string path) => files.ContainsKey(Path.GetFullPath(path));

    public IImageFile Open(string path, bool writable)
    {
        var full = Path.GetFullPath(path);
        if (!files.TryGetValue(full, out var bytes))
            throw new FileNotFoundException($"{full}: no such image", full);
        return new MemoryImageFile(this, full, bytes, writable);
    }

    public IImageFile Create(string path)
    {
        var full = Path.GetFullPath(path);
        if (files.ContainsKey(full))
            throw new IOException($"{full} already exists");
        var bytes = new SparseBytes();
        files[full] = bytes;
        if (Recording)
            journal.Add(new Operation(OperationKind.SetLength, full, 0, null, 0));
        return new MemoryImageFile(this, full, bytes, writable: true);
    }

    private sealed class MemoryImageFile(MemoryImageFileSystem owner, string path, SparseBytes bytes, bool writable) : IImageFile
    {
        public string Path => path;
        public bool CanWrite => writable;
        public long Length => bytes.Length;

        public int ReadAt(long offset, Span<byte> buffer)
        {
            if (offset >= bytes.Length)
                return 0;
            var n = (int)Math.Min(buffer.Length, bytes.Length - offset);
            bytes.Read(offset, buffer[..n]);
            return n;
        }

        public void WriteAt(long offset, ReadOnlySpan<byte> buffer)
        {
            if (!writable)
                throw new UnauthorizedAccessException($"{path} is open read-only");
            bytes.Write(offset, buffer);
            if (owner.Recording)
                owner.journal.Add(new Operation(OperationKind.Write, path, offset, buffer.ToArray(), 0));
        }

        public void SetLength(long length)
        {
            if (!writable)
                throw new UnauthorizedAccessException($"{path} is open read-only");
            bytes.SetLength(length);
            if (owner.Recording)
                owner.journal.Add(new Operation(OperationKind.SetLength, path, 0, null, length));
        }

        public void Flush()
        {
            if (owner.Recording)
                owner.journal.Add(new Operation(OperationKind.Flush, path, 0, null, 0));
        }

        public void Dispose()
        {
        }
    }

    private sealed class SparseBytes
    {
        private const int PageSize = 65536;
        private readonly Dictionary<long, byte[]> pages = [];

        public long Length { get; private set; }

        public SparseBytes Clone()
        {
            var copy = new SparseBytes { Length = Length };
            foreach (var (index, page) in pages)
                copy.pages[index] = (byte[])page.Clone();
            return copy;
        }

        public void Read(long offset, Span<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var index = offset / PageSize;
                var within = (int)(offset % PageSize);
                var n = Math.Min(buffer.Length, PageSize - within);
                if (pages.TryGetValue(index, out var page))
                    page.AsSpan(within, n).CopyTo(buffer);
                else
                    buffer[..n].Clear();
                buffer = buffer[n..];
                offset += n;
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            Length = Math.Max(Length, offset + data.Length);
            while (!data.IsEmpty)
            {
                var index = offset / PageSize;
                var within = (int)(offset % PageSize);
                var n = Math.Min(data.Length, PageSize - within);
                if (!pages.TryGetValue(index, out var page))
                    pages[index] = page = new byte[PageSize];
                data[..n].CopyTo(page.AsSpan(within));
                data = data[n..];
                offset += n;
            }
        }

        public void SetLength(long length)
        {
            if (length < Length)
            {
                foreach (var index in pages.Keys.Where(i => i * PageSize >= length).ToList())
                    pages.Remove(index);
                var lastPage = length / PageSize;
                if (pages.TryGetValue(lastPage, out var page))
                    page.AsSpan((int)(length % PageSize)).Clear();
            }
            Length = length;
        }
    }
}
