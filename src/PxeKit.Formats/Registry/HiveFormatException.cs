namespace PxeKit.Formats.Registry;

/// <summary>
/// A hive file is malformed or hostile. The message names the file offset where the reader stopped, so
/// a user can look at the bytes (`xxd -s OFFSET`). Thrown only while opening; a hive that opened is consistent.
/// </summary>
public sealed class HiveFormatException : Exception
{
    public HiveFormatException(string message, long fileOffset)
        : base($"{message} (file offset 0x{fileOffset:x})")
    {
        FileOffset = fileOffset;
    }

    public HiveFormatException()
    {
    }

    public HiveFormatException(string message)
        : base(message)
    {
    }

    public HiveFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Offset in the file (not the cell offset) the problem was found at; -1 when not tied to one place.</summary>
    public long FileOffset { get; } = -1;
}
