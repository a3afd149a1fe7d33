using Microsoft.Win32.SafeHandles;
using PxeKit.Protocols.Tftp;

namespace PxeKit.Server.Hosting;

/// <summary>A file under the boot root read with positional reads (pread); nothing is buffered in memory.</summary>
internal sealed class BootFile : ITftpFile
{
    private readonly SafeFileHandle _handle;

    private BootFile(SafeFileHandle handle, long length)
    {
        _handle = handle;
        Length = length;
    }

    public long Length { get; }

    /// <summary>Opens for reading, sharing with writers and deleters so that an admin can replace a boot file while
    /// clients load the old one.</summary>
    public static BootFile Open(string fullPath)
    {
        var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            return new BootFile(handle, RandomAccess.GetLength(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public int Read(long offset, Span<byte> destination) => RandomAccess.Read(_handle, destination, offset);

    public void Dispose() => _handle.Dispose();
}

/// <summary>Bytes the server generated (a BCD built from a recipe: a few kilobytes).</summary>
internal sealed class GeneratedFile(byte[] content) : ITftpFile
{
    public long Length => content.Length;

    public int Read(long offset, Span<byte> destination)
    {
        if (offset >= content.Length)
            return 0;
        var count = (int)Math.Min(destination.Length, content.Length - offset);
        content.AsSpan((int)offset, count).CopyTo(destination);
        return count;
    }

    public void Dispose()
    {
    }
}
