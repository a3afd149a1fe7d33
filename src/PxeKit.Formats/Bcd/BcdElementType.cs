using System.Globalization;

namespace PxeKit.Formats.Bcd;

/// <summary>Element class, bits 28-31 of an element type (MS BcdElementType; ReactOS bcd.h).</summary>
public enum BcdElementClass
{
    Library = 1,
    Application = 2,
    Device = 3,
    Template = 4,
    Oem = 5,
}

/// <summary>Element format, bits 24-27: decides the registry representation (spec §2.4).</summary>
public enum BcdElementFormat
{
    Device = 1,
    String = 2,
    Object = 3,
    ObjectList = 4,
    Integer = 5,
    Boolean = 6,
    IntegerList = 7,
}

/// <summary>
/// An element type: <c>(Class &lt;&lt; 28) | (Format &lt;&lt; 24) | SubType</c>. Stored as the name of the
/// element's key, eight lower-case hex digits like bcdedit writes them (e.g. "12000004").
/// </summary>
public readonly record struct BcdElementType(uint Value)
{
    public BcdElementClass Class => (BcdElementClass)(Value >> 28);

    public BcdElementFormat Format => (BcdElementFormat)((Value >> 24) & 0xF);

    public uint SubType => Value & 0x00FFFFFF;

    public string KeyName => Value.ToString("x8", CultureInfo.InvariantCulture);

    public static bool TryParseKeyName(string name, out BcdElementType type)
    {
        uint value = 0;
        var ok = name.Length == 8 && uint.TryParse(name, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        type = ok ? new BcdElementType(value) : default;
        return ok;
    }

    public override string ToString() => KeyName;

    public static implicit operator BcdElementType(uint value) => new(value);

    public static BcdElementType FromUInt32(uint value) => new(value);
}
