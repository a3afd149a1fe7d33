using System.Buffers.Binary;
using System.Globalization;
using PxeKit.Formats.Registry;

namespace PxeKit.Formats.Bcd;

/// <summary>
/// One element of an object: its type and the registry value that holds it (<c>Elements\xxxxxxxx\Element</c>).
/// The raw value is the truth; the typed accessors decode it tolerantly (integers of 1-8 bytes, as some
/// non-Windows tools write them) and return null when the bytes do not fit the format.
/// </summary>
public sealed class BcdElement
{
    internal const string ValueName = "Element";

    public BcdElement(BcdElementType type, RegistryValue value)
    {
        Type = type;
        Value = value;
    }

    public BcdElementType Type { get; }

    public RegistryValue Value { get; }

    public string? AsString() =>
        Value.Type is RegistryValueType.String or RegistryValueType.ExpandString ? RegistryValue.DecodeString(Value.Data.Span) : null;

    public Guid? AsObject() =>
        AsString() is { } text && Guid.TryParse(text, out var id) ? id : null;

    public IReadOnlyList<Guid>? AsObjectList()
    {
        if (Value.Type != RegistryValueType.MultiString)
            return null;
        var ids = new List<Guid>();
        foreach (var item in RegistryValue.DecodeMultiString(Value.Data.Span))
        {
            if (!Guid.TryParse(item, out var id))
                return null;
            ids.Add(id);
        }
        return ids;
    }

    /// <summary>Windows writes 8 bytes; shorter forms (1-7 bytes, zero-extended) come from other tools.</summary>
    public ulong? AsInteger()
    {
        var data = Value.Data.Span;
        if (data.Length is 0 or > 8)
            return null;
        Span<byte> wide = stackalloc byte[8];
        wide.Clear();
        data.CopyTo(wide);
        return BinaryPrimitives.ReadUInt64LittleEndian(wide);
    }

    public bool? AsBoolean()
    {
        var data = Value.Data.Span;
        if (data.IsEmpty)
            return null;
        foreach (var b in data)
        {
            if (b != 0)
                return true;
        }
        return false;
    }

    public IReadOnlyList<ulong>? AsIntegerList()
    {
        var data = Value.Data.Span;
        if (data.Length % 8 != 0)
            return null;
        var items = new ulong[data.Length / 8];
        for (var i = 0; i < items.Length; i++)
            items[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        return items;
    }

    public BcdDeviceElement? AsDevice(out string? error)
    {
        return BcdDeviceElement.TryParse(Value.Data.Span, out var device, out error) ? device : null;
    }

    // Encoders: the registry representation of each format (spec §2.4).

    public static RegistryValue EncodeString(string text) => new(ValueName, RegistryValueType.String, RegistryValue.EncodeString(text));

    public static RegistryValue EncodeObject(Guid id) => EncodeString(BcdWellKnownObjects.Format(id));

    public static RegistryValue EncodeObjectList(IEnumerable<Guid> ids) =>
        new(ValueName, RegistryValueType.MultiString, RegistryValue.EncodeMultiString(ids.Select(BcdWellKnownObjects.Format)));

    /// <summary>Integers are REG_BINARY uint64 (8 bytes), never REG_DWORD: Windows writes 8 (spec §6 pitfall 4).</summary>
    public static RegistryValue EncodeInteger(ulong number)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, number);
        return new RegistryValue(ValueName, RegistryValueType.Binary, bytes);
    }

    public static RegistryValue EncodeBoolean(bool value) => new(ValueName, RegistryValueType.Binary, [value ? (byte)1 : (byte)0]);

    public static RegistryValue EncodeIntegerList(IEnumerable<ulong> numbers)
    {
        var list = numbers.ToArray();
        var bytes = new byte[checked(list.Length * 8)];
        for (var i = 0; i < list.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), list[i]);
        return new RegistryValue(ValueName, RegistryValueType.Binary, bytes);
    }

    public static RegistryValue EncodeDevice(BcdDeviceElement device) => new(ValueName, RegistryValueType.Binary, device.ToArray());

    public override string ToString() => $"{Type} {Value}";

    internal static string Hex(ulong number) => "0x" + number.ToString("x", CultureInfo.InvariantCulture);
}
