namespace PxeKit.Formats.Registry;

/// <summary>
/// A key of an in-memory hive. Subkeys are kept in the order Windows requires in subkey lists (upper-cased
/// ordinal, see <see cref="NameOrder"/>); values keep the order they were read or added in. Lookups are
/// case-insensitive like Windows'. Everything read from a file (timestamps, class name, security descriptor)
/// is kept so that an edited hive writes back what it did not touch; a key that is changed is stamped with
/// the writer's time.
/// </summary>
public sealed class RegistryKey
{
    /// <summary>Key names are at most 255 characters (Windows' limit; nk NameLength would allow more).</summary>
    public const int MaxNameLength = 255;

    private readonly List<RegistryKey> subKeys = [];
    private readonly List<RegistryValue> values = [];

    internal RegistryKey(string name, RegistryKey? parent)
    {
        ValidateName(name);
        Name = name;
        Parent = parent;
        SecurityDescriptor = parent?.SecurityDescriptor ?? HiveSecurity.DefaultDescriptor;
        IsModified = true;
    }

    public string Name { get; }

    public RegistryKey? Parent { get; }

    public IReadOnlyList<RegistryKey> SubKeys => subKeys;

    public IReadOnlyList<RegistryValue> Values => values;

    /// <summary>FILETIME (UTC) of the last change as read from the file; null for keys created or changed here.</summary>
    public long? LastWritten { get; internal set; }

    /// <summary>Raw class-name bytes (UTF-16LE) read from the file; BCD stores have none.</summary>
    public ReadOnlyMemory<byte> ClassName { get; internal set; }

    /// <summary>Self-relative SECURITY_DESCRIPTOR bytes of the key's sk cell. New keys inherit their parent's, like hivex.</summary>
    public ReadOnlyMemory<byte> SecurityDescriptor { get; internal set; }

    /// <summary>True when the key was created or changed since it was read; the writer stamps such keys with its own time.</summary>
    public bool IsModified { get; private set; }

    /// <summary>Backslash-separated path from the root (the root itself is "\").</summary>
    public string Path
    {
        get
        {
            var parts = new List<string>();
            for (var key = this; key.Parent is not null; key = key.Parent)
                parts.Add(key.Name);
            parts.Reverse();
            return "\\" + string.Join('\\', parts);
        }
    }

    /// <summary>Order of subkeys in lf/lh lists: ordinal comparison of upper-cased names (msuhanov regf; hivex write.c).</summary>
    public static int NameOrder(string a, string b) =>
        string.CompareOrdinal(a.ToUpperInvariant(), b.ToUpperInvariant());

    public RegistryKey? GetSubKey(string name)
    {
        var index = FindSubKey(name);
        return index >= 0 ? subKeys[index] : null;
    }

    /// <summary>Follows a backslash-separated relative path; null if any part is missing.</summary>
    public RegistryKey? OpenSubKey(string path)
    {
        var key = this;
        foreach (var part in path.Split('\\', StringSplitOptions.RemoveEmptyEntries))
        {
            key = key.GetSubKey(part);
            if (key is null)
                return null;
        }
        return key;
    }

    /// <summary>Opens or creates every part of a backslash-separated relative path.</summary>
    public RegistryKey CreateSubKey(string path)
    {
        var key = this;
        foreach (var part in path.Split('\\', StringSplitOptions.RemoveEmptyEntries))
        {
            var index = key.FindSubKey(part);
            if (index >= 0)
            {
                key = key.subKeys[index];
                continue;
            }
            var child = new RegistryKey(part, key);
            key.subKeys.Insert(~index, child);
            key.IsModified = true;
            key = child;
        }
        return key;
    }

    /// <summary>Removes a direct subkey and everything below it. Returns false if there was none.</summary>
    public bool DeleteSubKey(string name)
    {
        var index = FindSubKey(name);
        if (index < 0)
            return false;
        subKeys.RemoveAt(index);
        IsModified = true;
        return true;
    }

    public RegistryValue? GetValue(string name)
    {
        foreach (var value in values)
        {
            if (string.Equals(value.Name, name, StringComparison.OrdinalIgnoreCase))
                return value;
        }
        return null;
    }

    /// <summary>Adds or replaces a value; a replaced value keeps its position in the list.</summary>
    public void SetValue(RegistryValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        IsModified = true;
        for (var i = 0; i < values.Count; i++)
        {
            if (string.Equals(values[i].Name, value.Name, StringComparison.OrdinalIgnoreCase))
            {
                values[i] = value;
                return;
            }
        }
        values.Add(value);
    }

    public void SetValue(string name, RegistryValueType type, ReadOnlySpan<byte> data) =>
        SetValue(new RegistryValue(name, type, data));

    public bool DeleteValue(string name)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.Equals(values[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                values.RemoveAt(i);
                IsModified = true;
                return true;
            }
        }
        return false;
    }

    public override string ToString() => Path;

    /// <summary>Reader path: adds a child whose content comes from the file, unsorted; <see cref="FinishRead"/> sorts.</summary>
    internal RegistryKey AddReadSubKey(string name)
    {
        var child = new RegistryKey(name, this);
        subKeys.Add(child);
        return child;
    }

    internal void AddReadValue(RegistryValue value) => values.Add(value);

    /// <summary>
    /// Called by the reader once a key's lists are complete: sorts subkeys (a hostile or old hive may list them
    /// out of order), rejects duplicate names, and clears the modified mark.
    /// </summary>
    internal string? FinishRead()
    {
        subKeys.Sort((a, b) => NameOrder(a.Name, b.Name));
        for (var i = 1; i < subKeys.Count; i++)
        {
            if (NameOrder(subKeys[i - 1].Name, subKeys[i].Name) == 0)
                return $"key '{Path}' has two subkeys named '{subKeys[i].Name}'";
        }
        var names = new HashSet<string>(values.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            if (!names.Add(value.Name))
                return $"key '{Path}' has two values named '{value.Name}'";
        }
        IsModified = false;
        return null;
    }

    private int FindSubKey(string name)
    {
        int low = 0, high = subKeys.Count - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var order = NameOrder(subKeys[middle].Name, name);
            if (order == 0)
                return middle;
            if (order < 0)
                low = middle + 1;
            else
                high = middle - 1;
        }
        return ~low;
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Length > MaxNameLength)
            throw new ArgumentException($"key name must be 1 to {MaxNameLength} characters, got {name.Length}", nameof(name));
        if (name.Contains('\\', StringComparison.Ordinal))
            throw new ArgumentException($"key name '{name}' contains a backslash", nameof(name));
    }
}
