using System.Text.RegularExpressions;

namespace PxeKit.Server.Boot;

/// <summary>A user remap rule: a regular expression and its replacement, like tftpd-hpa's <c>-m</c> file and Tiny PXE
/// Server's <c>[map]</c> section.</summary>
public sealed record RemapRule(Regex Pattern, string Replacement)
{
    public static RemapRule Create(string pattern, string replacement) =>
        // The time limit bounds a catastrophic pattern on a hostile name; rules are tried on every request.
        new(new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)), replacement);
}

public enum BootFileStatus
{
    Found,
    NotFound,
    Refused,
}

/// <summary>The outcome of mapping a client's name to a file under the boot root.</summary>
public sealed record BootFileLookup(
    BootFileStatus Status,
    string RequestedName,
    string? MappedName,
    string? FullPath,
    bool MatchedIgnoringCase,
    string? Reason)
{
    public bool IsFound => Status == BootFileStatus.Found;

    /// <summary>Bytes the server generated (a BCD built from a recipe); null for a file on disk.</summary>
    public byte[]? Content { get; init; }
}

/// <summary>
/// Maps names that boot clients ask for to files under one root directory, the same way for TFTP and HTTP.
/// The seeds' most common failure is a Windows client asking for <c>\Boot\BCD</c> from a Linux server that holds
/// <c>boot/bcd</c>; this is where that is fixed, and where every escape from the root is refused.
/// </summary>
/// <remarks>
/// Order, each step on the result of the one before: user remap rules on the name as sent; backslashes become
/// slashes (Windows bootmgr and WDS clients send <c>\Boot\BCD</c> and <c>/boot\x64\wdsnbp.com</c>); a drive letter
/// and leading slashes are dropped; empty and "." segments are dropped and any ".." segment is refused outright
/// (a name that climbs, even back in, is never a boot client's); each segment is looked up exactly and, when
/// enabled and there is no exact match, ignoring case. Symbolic links are followed only when their final target
/// lies inside the root (hostile-inputs T5). Checks run on the canonical result, never on the raw name (T1-T4).
/// </remarks>
public sealed class BootFileSystem
{
    /// <summary>Longest name accepted, in characters (T6).</summary>
    public const int MaxNameLength = 1024;

    /// <summary>Most segments a name may have: deeper trees are not boot trees, and the walk stays bounded.</summary>
    public const int MaxSegments = 32;

    private readonly string _rootWithSeparator;
    private readonly IReadOnlyList<RemapRule> _remaps;
    private readonly Dictionary<string, (string Name, byte[] Content)> _generated;

    /// <param name="generated">Files the server makes (generated BCDs) by mapped name ("boot/bcd"); they take
    /// precedence over files on disk and are matched ignoring case when <paramref name="caseInsensitive"/>.</param>
    public BootFileSystem(string root, IReadOnlyList<RemapRule> remaps, bool caseInsensitive,
        IReadOnlyDictionary<string, byte[]>? generated = null)
    {
        var full = Path.GetFullPath(root);
        if (Directory.Exists(full) && new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
            full = target.FullName;
        Root = Path.TrimEndingDirectorySeparator(full);
        _rootWithSeparator = Root + Path.DirectorySeparatorChar;
        _remaps = remaps;
        CaseInsensitive = caseInsensitive;
        _generated = new(caseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (var (name, content) in generated ?? new Dictionary<string, byte[]>())
        {
            var mapped = string.Join('/', Split(name, out _) ?? throw new ArgumentException($"'{name}' is not a path under the root"));
            _generated[mapped] = (mapped, content);
        }
    }


    /// <summary>Files made on request when the root has no file of that name (pxelinux.cfg/01-MAC from the boot
    /// policy): the mapped name in, the bytes or null out. A file on disk wins, so an admin can always override.</summary>
    public Func<string, byte[]?>? Dynamic { get; init; }

    /// <summary>The canonical root directory (symbolic links resolved).</summary>
    public string Root { get; }

    public bool CaseInsensitive { get; }

    /// <summary>The same root, remaps, generated and dynamic files with case-insensitive lookup: what a request would
    /// have found with <c>tftp.case-insensitive</c> on (`pxekit doctor` names the file to enable or rename for).</summary>
    public BootFileSystem IgnoringCase() => CaseInsensitive
        ? this
        : new BootFileSystem(Root, _remaps, caseInsensitive: true, _generated.Values.ToDictionary(g => g.Name, g => g.Content)) { Dynamic = Dynamic };

    /// <summary>Maps <paramref name="requestedName"/>; never throws for anything a client can send.</summary>
    public BootFileLookup Resolve(string requestedName)
    {
        if (requestedName.Length > MaxNameLength)
            return Refuse(requestedName, null, $"name of {requestedName.Length} characters is longer than {MaxNameLength}");
        foreach (var c in requestedName)
        {
            if (char.IsControl(c))
                return Refuse(requestedName, null, $"name contains control character U+{(int)c:X4}");
        }

        string name;
        try
        {
            name = ApplyRemaps(requestedName);
        }
        catch (RegexMatchTimeoutException)
        {
            return Refuse(requestedName, null, "a remap rule took too long on this name");
        }

        var segments = Split(name, out var refusal);
        if (segments is null)
            return Refuse(requestedName, name, refusal!);
        if (segments.Count == 0)
        {
            // The root is a directory like any other: not a file, and nothing wrong with asking (a browser pointed at
            // the HTTP server asks for "/" first), so not found rather than refused.
            return new BootFileLookup(BootFileStatus.NotFound, requestedName, "", null, false,
                $"'{name}' names the boot root, a directory");
        }

        var mapped = string.Join('/', segments);
        if (_generated.TryGetValue(mapped, out var generatedFile))
        {
            return new BootFileLookup(BootFileStatus.Found, requestedName, generatedFile.Name, null,
                !string.Equals(generatedFile.Name, mapped, StringComparison.Ordinal), null)
            {
                Content = generatedFile.Content,
            };
        }

        var current = Root;
        var ignoredCase = false;
        for (var i = 0; i < segments.Count; i++)
        {
            var candidate = Path.Join(current, segments[i]);
            if (!File.Exists(candidate) && !Directory.Exists(candidate))
            {
                var match = CaseInsensitive ? FindIgnoringCase(current, segments[i]) : null;
                if (match is null && Dynamic?.Invoke(mapped) is { } made)
                    return new BootFileLookup(BootFileStatus.Found, requestedName, mapped, null, false, null) { Content = made };
                if (match is null)
                    return new BootFileLookup(BootFileStatus.NotFound, requestedName, mapped, null, false,
                        $"'{mapped}' does not exist under {Root}" + (CaseInsensitive ? " (in any letter case)" : ""));
                candidate = match;
                ignoredCase = true;
            }

            var resolved = ResolveLink(candidate);
            if (resolved is null)
                return Refuse(requestedName, mapped, $"'{mapped}' is a symbolic link to somewhere outside the boot root");
            current = resolved;
        }

        if (Directory.Exists(current))
            return new BootFileLookup(BootFileStatus.NotFound, requestedName, mapped, null, false, $"'{mapped}' is a directory");
        if (!IsInsideRoot(current))
            return Refuse(requestedName, mapped, $"'{mapped}' resolves outside the boot root");

        var served = Path.GetRelativePath(Root, current).Replace(Path.DirectorySeparatorChar, '/');
        return new BootFileLookup(BootFileStatus.Found, requestedName, served, current, ignoredCase, null);
    }

    private string ApplyRemaps(string name)
    {
        foreach (var rule in _remaps)
            name = rule.Pattern.Replace(name, rule.Replacement);
        return name;
    }

    private static List<string>? Split(string name, out string? refusal)
    {
        refusal = null;
        var normalised = name.Replace('\\', '/');
        if (normalised.Length >= 2 && char.IsAsciiLetter(normalised[0]) && normalised[1] == ':')
            normalised = normalised[2..];

        var segments = new List<string>();
        foreach (var segment in normalised.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
                continue;
            if (segment == "..")
            {
                refusal = $"path '{name}' leaves the boot root";
                return null;
            }
            if (OperatingSystem.IsWindows() && segment.Contains(':', StringComparison.Ordinal))
            {
                // "iscsi.ps1::$DATA" is the file itself on NTFS, under a name that no longer ends in .ps1; "x:stream"
                // is a hidden alternate stream. Neither is a boot file.
                refusal = $"path '{name}' names an NTFS stream (a ':' after the drive letter)";
                return null;
            }
            if (segments.Count == MaxSegments)
            {
                refusal = $"path '{name}' has more than {MaxSegments} parts";
                return null;
            }
            segments.Add(segment);
        }
        return segments;
    }

    /// <summary>The entry of <paramref name="directory"/> equal to <paramref name="segment"/> ignoring case; the
    /// ordinally first when several are (deterministic on a tree with both <c>BCD</c> and <c>Bcd</c>).</summary>
    private static string? FindIgnoringCase(string directory, string segment)
    {
        if (!Directory.Exists(directory))
            return null;
        string? best = null;
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
            {
                var entryName = Path.GetFileName(entry);
                if (string.Equals(entryName, segment, StringComparison.OrdinalIgnoreCase) &&
                    (best is null || string.CompareOrdinal(entryName, Path.GetFileName(best)) < 0))
                    best = entry;
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return null;
        }
        return best;
    }

    /// <summary>The path itself when it is no link, its final target when that is inside the root, else null.</summary>
    private string? ResolveLink(string path)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (info.LinkTarget is null)
            return path;
        FileSystemInfo? target;
        try
        {
            target = info.ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException)
        {
            return null; // a link loop
        }
        return target is not null && target.Exists && IsInsideRoot(target.FullName) ? target.FullName : null;
    }

    private bool IsInsideRoot(string fullPath) =>
        fullPath.StartsWith(_rootWithSeparator, StringComparison.Ordinal);

    private static BootFileLookup Refuse(string requested, string? mapped, string reason) =>
        new(BootFileStatus.Refused, requested, mapped, null, false, reason);
}
