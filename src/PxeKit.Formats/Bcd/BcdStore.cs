using System.Globalization;
using PxeKit.Formats.Registry;

namespace PxeKit.Formats.Bcd;

/// <summary>
/// A BCD store: a registry hive laid out as spec §2.1. The hive stays the source of truth, so reading,
/// editing and writing back keeps every key and value this class does not understand. The bcdedit-like
/// operations (create, set, deletevalue, delete, displayorder, default, timeout) are methods here;
/// <see cref="BcdEnumeration"/> renders a store like <c>bcdedit /enum all</c>.
/// </summary>
public sealed class BcdStore
{
    internal const string RootName = "NewStoreRoot";
    internal const string ObjectsKey = "Objects";

    /// <summary>What <c>bcdedit /createstore</c> writes into <c>Description\KeyName</c> (system stores say BCD00000000).</summary>
    internal const string StoreKeyName = "BCD00000001";

    /// <summary>Base-block debug name used by the spec's reference stores.</summary>
    public const string DefaultFileName = @"\??\C:\BCD";

    private BcdStore(RegistryHive hive)
    {
        Hive = hive;
    }

    public RegistryHive Hive { get; }

    /// <summary><c>bcdedit /createstore</c>: root "NewStoreRoot", <c>Description\KeyName</c>, an empty <c>Objects</c>.</summary>
    public static BcdStore Create()
    {
        var hive = RegistryHive.Create(RootName, DefaultFileName);
        hive.Root.CreateSubKey("Description").SetValue(RegistryValue.FromString("KeyName", StoreKeyName));
        hive.Root.CreateSubKey(ObjectsKey);
        return new BcdStore(hive);
    }

    /// <summary>Reads a store. Hive damage raises <see cref="HiveFormatException"/>; a hive that is not a BCD store raises <see cref="BcdException"/>.</summary>
    public static BcdStore Open(ReadOnlySpan<byte> file) => FromHive(RegistryHive.Open(file));

    public static BcdStore FromHive(RegistryHive hive)
    {
        ArgumentNullException.ThrowIfNull(hive);
        if (hive.Root.GetSubKey(ObjectsKey) is null)
            throw new BcdException($"the hive (root key '{hive.Root.Name}') has no Objects key, so it is not a BCD store");
        return new BcdStore(hive);
    }

    public byte[] ToBytes(HiveWriteOptions? options = null) => Hive.ToBytes(options);

    /// <summary>Objects whose key name is a GUID; other keys under Objects are kept but not shown.</summary>
    public IReadOnlyList<BcdObject> Objects
    {
        get
        {
            var objects = new List<BcdObject>();
            foreach (var key in Hive.Root.GetSubKey(ObjectsKey)!.SubKeys)
            {
                if (Guid.TryParse(key.Name, out var id))
                    objects.Add(new BcdObject(id, key));
            }
            return objects;
        }
    }

    public BcdObject? Find(Guid id)
    {
        var key = Hive.Root.GetSubKey(ObjectsKey)!.GetSubKey(BcdWellKnownObjects.Format(id));
        return key is null ? null : new BcdObject(id, key);
    }

    public BcdObject Get(Guid id) =>
        Find(id) ?? throw new BcdException($"the store has no object {BcdIdentifiers.Format(id)}");

    /// <summary>The object <c>{bootmgr}</c> default points to, if any.</summary>
    public Guid? DefaultObject => Find(BcdWellKnownObjects.BootManager)?.Get(BcdElementTypes.DefaultObject)?.AsObject();

    /// <summary>
    /// Resolves an identifier typed by a user: a GUID, a well-known alias, or {default} (through
    /// {bootmgr}'s default element, as bcdedit does). {current} has no meaning in a store file.
    /// </summary>
    public Guid Resolve(string identifier)
    {
        if (!BcdIdentifiers.TryParse(identifier, out var id))
            throw new BcdException($"'{identifier}' is not a GUID or a well-known identifier like {{bootmgr}}");
        if (id == BcdWellKnownObjects.Default)
            return DefaultObject ?? throw new BcdException("{default} is not set: {bootmgr} has no default element");
        if (id == BcdWellKnownObjects.Current)
            throw new BcdException("{current} means the running system's entry; it does not exist in a store file");
        return id;
    }

    /// <summary>
    /// <c>bcdedit /create</c>: a new object with <c>Description\Type</c> and an empty <c>Elements</c> key, plus the
    /// description element if given.
    /// </summary>
    public BcdObject CreateObject(Guid id, uint type, string? description = null)
    {
        if (id == BcdWellKnownObjects.Default || id == BcdWellKnownObjects.Current)
            throw new BcdException("{default} and {current} are aliases and cannot be created as objects");
        var objects = Hive.Root.GetSubKey(ObjectsKey)!;
        var name = BcdWellKnownObjects.Format(id);
        if (objects.GetSubKey(name) is not null)
            throw new BcdException($"the store already has an object {BcdIdentifiers.Format(id)}");
        var key = objects.CreateSubKey(name);
        key.CreateSubKey(BcdObject.DescriptionKey).SetValue(RegistryValue.FromDWord(BcdObject.TypeValue, type));
        key.CreateSubKey(BcdObject.ElementsKey);
        var created = new BcdObject(id, key);
        if (description is not null)
            created.SetString(BcdElementTypes.Description, description);
        return created;
    }

    /// <summary>
    /// <c>bcdedit /delete</c>: removes the object and, like bcdedit's default cleanup, its entries in the boot
    /// managers' display orders, boot sequences and tools lists, and a default that pointed at it.
    /// </summary>
    public bool DeleteObject(Guid id)
    {
        if (!Hive.Root.GetSubKey(ObjectsKey)!.DeleteSubKey(BcdWellKnownObjects.Format(id)))
            return false;
        foreach (var manager in new[] { BcdWellKnownObjects.BootManager, BcdWellKnownObjects.FirmwareBootManager })
        {
            if (Find(manager) is not { } owner)
                continue;
            foreach (var list in new[] { BcdElementTypes.DisplayOrder, BcdElementTypes.BootSequence, BcdElementTypes.ToolsDisplayOrder })
            {
                if (owner.Get(list)?.AsObjectList() is { } ids && ids.Contains(id))
                    owner.SetObjectList(list, ids.Where(x => x != id));
            }
            if (owner.Get(BcdElementTypes.DefaultObject)?.AsObject() == id)
                owner.Remove(BcdElementTypes.DefaultObject);
        }
        return true;
    }

    /// <summary>
    /// <c>bcdedit /set {id} NAME VALUE</c>: NAME as bcdedit spells it (or custom:XXXXXXXX), VALUE parsed for the
    /// element's format. Returns the element type that was set.
    /// </summary>
    public uint SetElement(Guid id, string name, string value)
    {
        var target = Get(id);
        var objectType = target.Type;
        if (!BcdElementTypes.TryParse(name, objectType, out var element))
            throw new BcdException($"'{name}' is not an element bcdedit knows for a {BcdObjectTypes.Heading(objectType, id)} object; use custom:XXXXXXXX for others");
        target.Set(element, EncodeValue(element, objectType, value));
        return element;
    }

    /// <summary><c>bcdedit /deletevalue {id} NAME</c>.</summary>
    public bool DeleteElement(Guid id, string name)
    {
        var target = Get(id);
        if (!BcdElementTypes.TryParse(name, target.Type, out var element))
            throw new BcdException($"'{name}' is not an element bcdedit knows for a {BcdObjectTypes.Heading(target.Type, id)} object; use custom:XXXXXXXX for others");
        return target.Remove(element);
    }

    /// <summary>Parses a value as bcdedit does for the element's format.</summary>
    public RegistryValue EncodeValue(uint element, uint objectType, string value)
    {
        var type = new BcdElementType(element);
        var text = value.Trim();
        switch (type.Format)
        {
            case BcdElementFormat.Device:
                return BcdElement.EncodeDevice(BcdDeviceSyntax.Parse(text, element));
            case BcdElementFormat.String:
                return BcdElement.EncodeString(value);
            case BcdElementFormat.Object:
                return BcdElement.EncodeObject(Resolve(text));
            case BcdElementFormat.ObjectList:
                return BcdElement.EncodeObjectList(SplitList(text).Select(Resolve));
            case BcdElementFormat.Integer:
                return BcdElement.EncodeInteger(ParseInteger(element, objectType, text));
            case BcdElementFormat.Boolean:
                return BcdElement.EncodeBoolean(ParseBoolean(text));
            case BcdElementFormat.IntegerList:
                return BcdElement.EncodeIntegerList(SplitList(text).Select(x => BcdDeviceSyntax.ParseNumber(x, "list entry")));
            default:
                throw new BcdException($"element {type} has format {(int)type.Format}, which BCD does not define");
        }
    }

    /// <summary><c>bcdedit /displayorder</c>: replaces the list, or adds/removes one entry.</summary>
    public void SetDisplayOrder(IEnumerable<Guid> ids, DisplayOrderChange change = DisplayOrderChange.Replace)
    {
        var manager = Get(BcdWellKnownObjects.BootManager);
        var current = manager.Get(BcdElementTypes.DisplayOrder)?.AsObjectList() ?? [];
        var given = ids.ToList();
        var result = change switch
        {
            DisplayOrderChange.AddFirst => given.Concat(current.Where(x => !given.Contains(x))),
            DisplayOrderChange.AddLast => current.Where(x => !given.Contains(x)).Concat(given),
            DisplayOrderChange.Remove => current.Where(x => !given.Contains(x)),
            _ => given,
        };
        manager.SetObjectList(BcdElementTypes.DisplayOrder, result.ToList());
    }

    /// <summary><c>bcdedit /default</c>.</summary>
    public void SetDefault(Guid id)
    {
        Get(id);
        Get(BcdWellKnownObjects.BootManager).SetObject(BcdElementTypes.DefaultObject, id);
    }

    /// <summary><c>bcdedit /timeout</c>, in seconds.</summary>
    public void SetTimeout(ulong seconds) => Get(BcdWellKnownObjects.BootManager).SetInteger(BcdElementTypes.Timeout, seconds);

    private static IEnumerable<string> SplitList(string text) =>
        text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);

    private static ulong ParseInteger(uint element, uint objectType, string text)
    {
        if (BcdElementTypes.EnumValues(element, objectType) is { } names)
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (string.Equals(names[i], text, StringComparison.OrdinalIgnoreCase))
                    return (ulong)i;
            }
        }
        return BcdDeviceSyntax.ParseNumber(text, BcdElementTypes.NameOf(element, objectType));
    }

    private static bool ParseBoolean(string text) => text.ToLowerInvariant() switch
    {
        "yes" or "on" or "true" or "1" => true,
        "no" or "off" or "false" or "0" => false,
        _ => throw new BcdException($"'{text}' is not a boolean; use Yes or No"),
    };

    internal static string FormatNumber(ulong number) => number.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How <see cref="BcdStore.SetDisplayOrder"/> changes the list (bcdedit /addfirst, /addlast, /remove).</summary>
public enum DisplayOrderChange
{
    Replace,
    AddFirst,
    AddLast,
    Remove,
}
