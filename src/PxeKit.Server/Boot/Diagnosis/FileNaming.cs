namespace PxeKit.Server.Boot.Diagnosis;

/// <summary>
/// Why a name a client asked for was not found when a file of nearly that name is there: the letter case differs
/// (Windows asks for <c>\Boot\BCD</c>, the Linux root holds <c>boot/bcd</c>) or the file was copied from Windows
/// with the backslashes in its own name (a file called <c>Boot\BCD</c> in the root, which no request can reach
/// because backslashes are read as folders).
/// </summary>
internal static class FileNaming
{
    public static (string Message, string Fix)? Explain(BootFileSystem files, BootFileSystem ignoringCase, BootFileLookup lookup)
    {
        if (lookup.Status != BootFileStatus.NotFound || lookup.MappedName is not { Length: > 0 } mapped)
            return null;
        if (!files.CaseInsensitive && ignoringCase.Resolve(lookup.RequestedName) is { IsFound: true } other)
        {
            return ($"{other.MappedName} exists",
                $"enable case-insensitive lookup (tftp.case-insensitive: true) or rename {other.MappedName} to {mapped}");
        }
        // Only a name that resolved to "not found" gets here, so it has no ".." part and stays inside the root.
        var literal = lookup.RequestedName.TrimStart('\\', '/');
        if (literal.Contains('\\', StringComparison.Ordinal) && !literal.Contains('/', StringComparison.Ordinal)
            && File.Exists(Path.Join(files.Root, literal)))
        {
            return ($"a file named '{literal}' exists, with the backslashes in its own name (copied from Windows?)",
                $"rename it to {mapped} (folders, not backslashes in a name): clients' backslashes are read as folders");
        }
        return null;
    }
}
