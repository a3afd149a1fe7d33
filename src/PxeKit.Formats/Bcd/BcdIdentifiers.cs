namespace PxeKit.Formats.Bcd;

/// <summary>Object identifiers as users type them: <c>{bootmgr}</c>, <c>{ramdiskoptions}</c>, or a GUID with or without braces.</summary>
public static class BcdIdentifiers
{
    public static bool TryParse(string text, out Guid id)
    {
        var value = text.Trim();
        if (Guid.TryParse(value, out id))
            return true;
        return BcdWellKnownObjects.TryGetByAlias(value, out id);
    }

    /// <summary>"{alias}" for well-known objects, "{guid}" otherwise.</summary>
    public static string Format(Guid id) => BcdWellKnownObjects.AliasOf(id) ?? BcdWellKnownObjects.Format(id);
}
