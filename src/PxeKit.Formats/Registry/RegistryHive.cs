namespace PxeKit.Formats.Registry;

/// <summary>
/// A registry hive (regf file) held in memory as a tree of keys and values. <see cref="Open"/> reads any
/// hive Windows or hivex writes, checking every offset and length first; <see cref="ToBytes"/> writes the
/// deterministic layout of spec §1.11 (format 1.3, lf lists, one sk per distinct descriptor). Editing is
/// read → change keys → write: whatever was not changed (names, types, data, timestamps, class names,
/// security descriptors) comes back as it was.
/// </summary>
public sealed class RegistryHive
{
    private RegistryHive(RegistryKey root, string fileName, int minorVersion)
    {
        Root = root;
        FileName = fileName;
        MinorVersion = minorVersion;
    }

    public RegistryKey Root { get; }

    /// <summary>The base block's debug file name (e.g. <c>\??\C:\Boot\BCD</c>); written back as is.</summary>
    public string FileName { get; set; }

    /// <summary>Minor format version the hive was read with (our writer always writes 3, or 5 for big data).</summary>
    public int MinorVersion { get; }

    /// <summary>A new empty hive whose root key has the given name (BCD stores: "NewStoreRoot").</summary>
    public static RegistryHive Create(string rootName, string fileName = "")
    {
        var root = new RegistryKey(rootName, parent: null);
        return new RegistryHive(root, fileName, minorVersion: 3);
    }

    /// <summary>Reads a hive; a malformed or hostile file raises <see cref="HiveFormatException"/> naming the offset.</summary>
    public static RegistryHive Open(ReadOnlySpan<byte> file)
    {
        var (root, fileName, minor) = HiveReader.Read(file);
        return new RegistryHive(root, fileName, minor);
    }

    public static bool TryOpen(ReadOnlySpan<byte> file, out RegistryHive? hive, out string? error)
    {
        try
        {
            hive = Open(file);
            error = null;
            return true;
        }
        catch (HiveFormatException e)
        {
            hive = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Serialises the hive (spec §1.11); the same tree and options always give the same bytes.</summary>
    public byte[] ToBytes(HiveWriteOptions? options = null) => HiveWriter.Write(this, options ?? new HiveWriteOptions());
}
