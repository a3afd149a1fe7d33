using Microsoft.Win32.SafeHandles;

namespace PxeKit.Bench.TftpLoad;

/// <summary>
/// The bytes a transfer must deliver: the local copy of the served file. Files up to <see cref="InMemoryLimit"/>
/// are read once into memory and shared by all transfers; larger ones (the 1 GiB RSS scenario) are read with
/// positional reads in chunks per transfer, so the client stays small however large the file.
/// </summary>
internal sealed class ExpectedContent : IDisposable
{
    public const long InMemoryLimit = 256L << 20;

    private readonly byte[]? _data;
    private readonly SafeFileHandle? _handle;

    private ExpectedContent(string path, byte[]? data, SafeFileHandle? handle, long length)
    {
        Path = path;
        _data = data;
        _handle = handle;
        Length = length;
    }

    public string Path { get; }

    public long Length { get; }

    public static ExpectedContent Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var length = RandomAccess.GetLength(handle);
        if (length > InMemoryLimit)
            return new ExpectedContent(path, null, handle, length);
        try
        {
            var data = new byte[length];
            var done = 0;
            while (done < length)
            {
                var read = RandomAccess.Read(handle, data.AsSpan(done), done);
                if (read <= 0)
                    throw new IOException($"{path} shrank while being read");
                done += read;
            }
            return new ExpectedContent(path, data, null, length);
        }
        finally
        {
            handle.Dispose();
        }
    }

    /// <summary>A per-transfer view; for large files it keeps one chunk of the file.</summary>
    public Cursor CreateCursor() => new(this);

    public void Dispose() => _handle?.Dispose();

    internal sealed class Cursor
    {
        private const int ChunkBytes = 1 << 20;
        private readonly ExpectedContent _owner;
        private byte[]? _chunk;
        private long _chunkStart = -1;
        private int _chunkLength;

        public Cursor(ExpectedContent owner) => _owner = owner;

        /// <summary>True when <paramref name="received"/> equals the file's bytes at <paramref name="offset"/>.</summary>
        public bool Matches(long offset, ReadOnlySpan<byte> received)
        {
            if (offset < 0 || offset + received.Length > _owner.Length)
                return false;
            if (_owner._data is { } data)
                return received.SequenceEqual(data.AsSpan((int)offset, received.Length));

            var position = 0;
            while (position < received.Length)
            {
                var at = offset + position;
                if (_chunk is null || at < _chunkStart || at >= _chunkStart + _chunkLength)
                    Load(at);
                var inChunk = (int)(at - _chunkStart);
                var count = Math.Min(received.Length - position, _chunkLength - inChunk);
                if (!received.Slice(position, count).SequenceEqual(_chunk.AsSpan(inChunk, count)))
                    return false;
                position += count;
            }
            return true;
        }

        private void Load(long at)
        {
            _chunk ??= new byte[ChunkBytes];
            var wanted = (int)Math.Min(ChunkBytes, _owner.Length - at);
            var done = 0;
            while (done < wanted)
            {
                var read = RandomAccess.Read(_owner._handle!, _chunk.AsSpan(done, wanted - done), at + done);
                if (read <= 0)
                    throw new IOException($"{_owner.Path} shrank while being read");
                done += read;
            }
            _chunkStart = at;
            _chunkLength = wanted;
        }
    }
}
