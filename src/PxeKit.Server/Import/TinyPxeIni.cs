using System.Text;

namespace PxeKit.Server.Import;

/// <summary>One <c>key=value</c> line of a Tiny PXE Server <c>config.ini</c>, with its 1-based line number.</summary>
public sealed record TinyPxeIniEntry(string Section, string Key, string Value, int Line)
{
    /// <summary>"[dhcp] filename=undionly.kpxe": how the admin wrote it, for comments and messages.</summary>
    public override string ToString() => $"[{Section}] {Key}={Value}";
}

/// <summary>An <c>config.ini</c> that cannot be read as one: one sentence for the admin.</summary>
public sealed class TinyPxeIniException(string message) : Exception(message);

/// <summary>
/// Reads a Tiny PXE Server <c>config.ini</c> the way Windows' profile API reads it, since pxesrv.exe (Delphi, Windows)
/// does: <c>[section]</c> lines, <c>key=value</c> lines, whole-line comments starting with <c>;</c> (and <c>#</c>:
/// Windows would read <c>#opt1=x</c> as a key nobody asks for, so it is a comment in effect), section and key names compared
/// ignoring case, spaces around names and values trimmed, one pair of enclosing quotes dropped (Windows'
/// GetPrivateProfileString documents the quote rule). No inline comments: Windows keeps <c>a=b ;c</c> as "b ;c".
/// </summary>
/// <remarks>
/// Limits, because the file comes from another machine: at most <see cref="MaxFileBytes"/> bytes (the stock file is
/// about 2 KB) and <see cref="MaxLineChars"/> characters per line; control characters other than tab refuse the
/// file (a binary is not a config.ini). A key repeated within a section keeps the last value with a warning;
/// whether pxesrv.exe keeps the first or the last is not documented in any source we found, so the warning says so.
/// Lines without <c>=</c> and keys before any section are skipped with a warning, as Windows skips them.
/// Encodings: UTF-8 (with or without BOM), UTF-16 with BOM (Notepad's "Unicode"), otherwise Windows-1252, what
/// pxesrv.exe writes on Western systems (not Latin-1: 0x80-0x9F are its dashes and quotes, e.g. "Windows 10 – Setup",
/// and Latin-1 would make them control characters). The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F,
/// 0x90, 0x9D) decode to C1 control characters, which refuse the file.
/// </remarks>
public sealed class TinyPxeIni
{
    public const int MaxFileBytes = 1024 * 1024;
    public const int MaxLineChars = 4096;

    private readonly List<(string Name, int Line, List<TinyPxeIniEntry> Entries)> _sections = [];

    public List<string> Warnings { get; } = [];

    /// <summary>Sections in file order, names as written; a section that appears twice is merged into the first.</summary>
    public IEnumerable<(string Name, int Line, IReadOnlyList<TinyPxeIniEntry> Entries)> Sections =>
        _sections.Select(s => (s.Name, s.Line, (IReadOnlyList<TinyPxeIniEntry>)s.Entries));

    public IReadOnlyList<TinyPxeIniEntry> Section(string name) =>
        _sections.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)).Entries ?? [];

    public TinyPxeIniEntry? Get(string section, string key) =>
        Section(section).FirstOrDefault(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase));

    public static TinyPxeIni Load(string path)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxFileBytes)
                throw new TinyPxeIniException($"{path} is {stream.Length} bytes, larger than the {MaxFileBytes} bytes a config.ini can be (the stock one is about 2 KB).");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TinyPxeIniException($"cannot read {path}: {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static TinyPxeIni Parse(ReadOnlySpan<byte> bytes, string name = "config.ini")
    {
        if (bytes.Length > MaxFileBytes)
            throw new TinyPxeIniException($"{name} is {bytes.Length} bytes, larger than the {MaxFileBytes} bytes a config.ini can be (the stock one is about 2 KB).");
        return ParseText(Decode(bytes), name);
    }

    /// <summary>Windows-1252 from the code-page tables in the shared framework (managed data, so it works with
    /// invariant globalization); taken from the provider, not registered process-wide.</summary>
    private static readonly Encoding Windows1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)
        ?? throw new InvalidOperationException("the Windows-1252 code page is missing from System.Text.Encoding.CodePages");

    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            return StrictUtf8(bytes[3..]) ?? Windows1252.GetString(bytes[3..]);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
            return Encoding.Unicode.GetString(bytes[2..]);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        return StrictUtf8(bytes) ?? Windows1252.GetString(bytes);
    }

    private static string? StrictUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static TinyPxeIni ParseText(string text, string name)
    {
        var ini = new TinyPxeIni();
        List<TinyPxeIniEntry>? current = null;
        string? currentName = null;
        var seen = new Dictionary<(string, string), int>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (line.Length > MaxLineChars)
                throw new TinyPxeIniException($"{name} line {lineNumber} is {line.Length} characters long, more than the {MaxLineChars} a config.ini line can be.");
            foreach (var c in line)
            {
                if (char.IsControl(c) && c != '\t')
                    throw new TinyPxeIniException($"{name} line {lineNumber} contains the control character U+{(int)c:X4}: this is not a text config.ini.");
            }

            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] is ';' or '#')
                continue;
            if (trimmed[0] == '[')
            {
                var close = trimmed.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    ini.Warnings.Add($"line {lineNumber}: '{trimmed}' opens a section without closing it; skipped");
                    current = null;
                    continue;
                }
                currentName = trimmed[1..close].Trim();
                var existing = ini._sections.FindIndex(s => string.Equals(s.Name, currentName, StringComparison.OrdinalIgnoreCase));
                if (existing >= 0)
                {
                    current = ini._sections[existing].Entries;
                    currentName = ini._sections[existing].Name;
                }
                else
                {
                    current = [];
                    ini._sections.Add((currentName, lineNumber, current));
                }
                continue;
            }

            var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                ini.Warnings.Add($"line {lineNumber}: '{Shorten(trimmed)}' is not key=value; skipped");
                continue;
            }
            if (current is null || currentName is null)
            {
                ini.Warnings.Add($"line {lineNumber}: '{Shorten(trimmed)}' comes before any [section]; skipped");
                continue;
            }

            var key = trimmed[..equals].Trim();
            var value = Unquote(trimmed[(equals + 1)..].Trim());
            var id = (currentName.ToLowerInvariant(), key.ToLowerInvariant());
            if (seen.TryGetValue(id, out var earlier))
            {
                ini.Warnings.Add($"line {lineNumber}: [{currentName}] {key} repeats line {earlier}; the importer uses line {lineNumber} (the last), check which one Tiny PXE Server used");
                current.RemoveAll(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase));
            }
            seen[id] = lineNumber;
            current.Add(new TinyPxeIniEntry(currentName, key, value, lineNumber));
        }

        if (ini._sections.Count == 0)
            throw new TinyPxeIniException($"{name} has no [section]: a Tiny PXE Server config.ini has at least [dhcp].");
        return ini;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
