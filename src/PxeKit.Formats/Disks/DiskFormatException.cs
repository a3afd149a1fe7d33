namespace PxeKit.Formats.Disks;

/// <summary>
/// A disk image is malformed, hostile or not what was asked for (a broken parent link, a bad checksum, a BAT entry
/// past the end of the file). The message names the file and, where there is one, the offset, so an admin can look
/// at the bytes (`xxd -s OFFSET`). Thrown while opening, or by a read or write that meets a corrupt structure;
/// nothing is written to the image after such an error.
/// </summary>
public sealed class DiskFormatException : Exception
{
    public DiskFormatException(string path, string message, long fileOffset = -1)
        : base(fileOffset >= 0 ? $"{path}: {message} (file offset 0x{fileOffset:x})" : $"{path}: {message}")
    {
        FileOffset = fileOffset;
    }

    public DiskFormatException()
    {
    }

    public DiskFormatException(string message)
        : base(message)
    {
    }

    public DiskFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Offset in the file the problem was found at; -1 when not tied to one place.</summary>
    public long FileOffset { get; } = -1;
}
