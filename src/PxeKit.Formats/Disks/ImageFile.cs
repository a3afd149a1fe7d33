using Microsoft.Win32.SafeHandles;

namespace PxeKit.Formats.Disks;

/// <summary>
/// The bytes of one image file. Formats do all their I/O through this, positionally, so that tests can put a
/// recording or crash-cutting file underneath a real format, and no format ever buffers a whole image.
/// </summary>
public interface IImageFile : IDisposable
{
    string Path { get; }
    bool CanWrite { get; }
    long Length { get; }

    /// <summary>Reads up to buffer.Length bytes at offset; returns fewer only at the end of the file.</summary>
    int ReadAt(long offset, Span<byte> buffer);

    void WriteAt(long offset, ReadOnlySpan<byte> buffer);

    void SetLength(long length);

    /// <summary>fsync: everything written so far is on stable storage when this returns.</summary>
    void Flush();
}

/// <summary>Opens image files by path; the seam through which parents are found and opened read-only.</summary>
public interface IImageFileSystem
{
    bool Exists(string path);

    IImageFile Open(string path, bool writable);

    IImageFile Create(string path);
}

/// <summary>Image files on the local file system, read and written with <see cref="RandomAccess"/>.</summary>
public sealed class LocalImageFileSystem : IImageFileSystem
{
    public static LocalImageFileSystem Instance { get; } = new();

    public bool Exists(string path) => File.Exists(path);

    public IImageFile Open(string path, bool writable) => new LocalImageFile(path,
        File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read,
            writable ? FileShare.Read : FileShare.ReadWrite | FileShare.Delete), writable);

    public IImageFile Create(string path) => new LocalImageFile(path,
        File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read), writable: true);

    private sealed class LocalImageFile(string path, SafeFileHandle handle, bool writable) : IImageFile
    {
        public string Path { get; } = System.IO.Path.GetFullPath(path);
        public bool CanWrite { get; } = writable;
        public long Length => RandomAccess.GetLength(handle);

        public int ReadAt(long offset, Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer[total..], offset + total);
                if (read == 0)
                    break;
                total += read;
            }
            return total;
        }

        public void WriteAt(long offset, ReadOnlySpan<byte> buffer) => RandomAccess.Write(handle, buffer, offset);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Flush() => RandomAccess.FlushToDisk(handle);

        public void Dispose() => handle.Dispose();
    }
}
