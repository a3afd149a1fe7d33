using System.Buffers.Binary;
using PxeKit.Formats.Registry;

namespace PxeKit.Formats.Bcd;

/// <summary>An object of a store: <c>Objects\{id}</c> with <c>Description\Type</c> and <c>Elements\xxxxxxxx</c> keys (spec §2.1).</summary>
public sealed class BcdObject
{
    internal const string DescriptionKey = "Description";
    internal const string TypeValue = "Type";
    internal const string ElementsKey = "Elements";

    internal BcdObject(Guid id, RegistryKey key)
    {
        Id = id;
        Key = key;
    }

    public Guid Id { get; }

    /// <summary>The object's key; edits through it are kept when the store is written.</summary>
    public RegistryKey Key { get; }

    /// <summary>Object type from <c>Description\Type</c>; 0 when missing or not a DWORD.</summary>
    public uint Type
    {
        get
        {
            var value = Key.OpenSubKey(DescriptionKey)?.GetValue(TypeValue);
            return value is not null && value.Data.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value.Data.Span) : 0;
        }
    }

    /// <summary>Elements in ascending element-type order (bcdedit's display order).</summary>
    public IReadOnlyList<BcdElement> Elements
    {
        get
        {
            var elements = new List<BcdElement>();
            var container = Key.GetSubKey(ElementsKey);
            if (container is null)
                return elements;
            foreach (var key in container.SubKeys)
            {
                if (BcdElementType.TryParseKeyName(key.Name, out var type) && key.GetValue(BcdElement.ValueName) is { } value)
                    elements.Add(new BcdElement(type, value));
            }
            elements.Sort((a, b) => a.Type.Value.CompareTo(b.Type.Value));
            return elements;
        }
    }

    public string? Description => Get(BcdElementTypes.Description)?.AsString();

    public BcdElement? Get(uint type)
    {
        var key = Key.GetSubKey(ElementsKey)?.GetSubKey(new BcdElementType(type).KeyName);
        return key?.GetValue(BcdElement.ValueName) is { } value ? new BcdElement(type, value) : null;
    }

    /// <summary>Sets an element to an already encoded value (see the BcdElement.Encode* methods).</summary>
    public void Set(uint type, RegistryValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var element = new RegistryValue(BcdElement.ValueName, value.Type, value.Data.Span);
        Key.CreateSubKey(ElementsKey).CreateSubKey(new BcdElementType(type).KeyName).SetValue(element);
    }

    public void SetString(uint type, string text) => Set(type, BcdElement.EncodeString(text));

    public void SetBoolean(uint type, bool value) => Set(type, BcdElement.EncodeBoolean(value));

    public void SetInteger(uint type, ulong value) => Set(type, BcdElement.EncodeInteger(value));

    public void SetObject(uint type, Guid id) => Set(type, BcdElement.EncodeObject(id));

    public void SetObjectList(uint type, IEnumerable<Guid> ids) => Set(type, BcdElement.EncodeObjectList(ids));

    public void SetDevice(uint type, BcdDeviceElement device) => Set(type, BcdElement.EncodeDevice(device));

    /// <summary>Removes an element (bcdedit /deletevalue). Returns false if it was not set.</summary>
    public bool Remove(uint type) =>
        Key.GetSubKey(ElementsKey)?.DeleteSubKey(new BcdElementType(type).KeyName) ?? false;

    public override string ToString() => BcdIdentifiers.Format(Id);
}
