using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Formats.Registry;

/// <summary>One named value of a key: its type and raw data bytes, exactly as stored in the hive.</summary>
public sealed class RegistryValue
{
    /// <summary>Largest value name a hive can hold: vk NameLength is 16 bits; Windows caps names at 16383 chars.</summary>
    public const int MaxNameLength = 16383;

    private readonly byte[] data;

    public RegistryValue(string name, RegistryValueType type, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length > MaxNameLength)
            throw new ArgumentException($"value name is {name.Length} characters; a hive allows at most {MaxNameLength}", nameof(name));
        Name = name;
        Type = type;
        this.data = data.ToArray();
    }

    /// <summary>Value name; empty for the key's default value.</summary>
    public string Name { get; }

    public RegistryValueType Type { get; }

    public ReadOnlyMemory<byte> Data => data;

    public static RegistryValue FromString(string name, string text) =>
        new(name, RegistryValueType.String, EncodeString(text));

    public static RegistryValue FromDWord(string name, uint number)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, number);
        return new RegistryValue(name, RegistryValueType.DWord, bytes);
    }

    /// <summary>UTF-16LE with the terminating NUL, as Windows stores REG_SZ.</summary>
    public static byte[] EncodeString(string text)
    {
        var bytes = new byte[checked((text.Length + 1) * 2)];
        Encoding.Unicode.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>REG_MULTI_SZ: every string NUL-terminated, then one more NUL.</summary>
    public static byte[] EncodeMultiString(IEnumerable<string> items)
    {
        var builder = new StringBuilder();
        foreach (var item in items)
            builder.Append(item).Append('\0');
        builder.Append('\0');
        return Encoding.Unicode.GetBytes(builder.ToString());
    }

    /// <summary>Reads UTF-16LE text up to the first NUL (or the end; an odd trailing byte is ignored).</summary>
    public static string DecodeString(ReadOnlySpan<byte> bytes)
    {
        var chars = bytes[..(bytes.Length & ~1)];
        for (var i = 0; i + 1 < chars.Length; i += 2)
        {
            if (chars[i] == 0 && chars[i + 1] == 0)
                return Encoding.Unicode.GetString(chars[..i]);
        }
        return Encoding.Unicode.GetString(chars);
    }

    /// <summary>Splits REG_MULTI_SZ data into its strings; stops at the empty string that ends the list.</summary>
    public static IReadOnlyList<string> DecodeMultiString(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.Unicode.GetString(bytes[..(bytes.Length & ~1)]);
        var items = new List<string>();
        foreach (var part in text.Split('\0'))
        {
            if (part.Length == 0)
                break;
            items.Add(part);
        }
        return items;
    }

    public override string ToString() => $"{Name} ({Type}, {data.Length} bytes)";
}
