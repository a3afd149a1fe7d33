using System.Text;

namespace PxeKit.Server.Import;

/// <summary>
/// A small ordered YAML tree written as text, so every translated key can carry the comment that says where it came
/// from (YamlDotNet's emitter writes no comments). Scalars are always single-quoted unless the importer made them
/// itself (numbers, booleans, modes): single quotes keep <c>\</c>, <c>:</c>, <c>#</c>, <c>{</c> and <c>@</c> literal,
/// and the only escape is <c>''</c> for a quote. A value with a line break or a control character is double-quoted
/// with <c>\u</c> escapes instead (see <see cref="YamlScalar.Quoted"/>).
/// </summary>
internal sealed class YamlMap
{
    private readonly List<(string? Key, string[] Comments, object? Value)> _items = [];

    public bool IsEmpty => _items.All(i => i.Value is null || i.Value is YamlMap { IsEmpty: true } || i.Value is YamlList { IsEmpty: true });

    /// <summary>Adds or replaces <paramref name="key"/>; a replaced key keeps its place.</summary>
    public void Set(string key, object value, params string[] comments)
    {
        var index = _items.FindIndex(i => i.Key == key);
        if (index >= 0)
            _items[index] = (key, [.. _items[index].Comments, .. comments], value);
        else
            _items.Add((key, comments, value));
    }

    public T Child<T>(string key) where T : class, new()
    {
        var existing = _items.FirstOrDefault(i => i.Key == key).Value;
        if (existing is T typed)
            return typed;
        var created = new T();
        _items.Add((key, [], created));
        return created;
    }

    /// <summary>A comment line of its own (e.g. a suggested key left commented out).</summary>
    public void Comment(params string[] comments) => _items.Add((null, comments, null));

    /// <summary>Keeps a place for <paramref name="key"/> so that a later <see cref="Set"/> lands there; written only
    /// if set.</summary>
    public void Reserve(string key) => _items.Add((key, [], null));

    public void Write(StringBuilder text, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var (key, comments, value) in _items)
        {
            if (value is YamlMap { IsEmpty: true } or YamlList { IsEmpty: true } || (key is not null && value is null))
                continue;
            if (indent == 0 && value is YamlMap or YamlList)
                text.Append('\n'); // a blank line before each top-level block
            foreach (var comment in comments)
                text.Append(pad).Append("# ").Append(YamlScalar.CommentText(comment)).Append('\n');
            if (key is null || value is null)
                continue;
            text.Append(pad).Append(YamlScalar.Key(key)).Append(':');
            WriteValue(text, value, indent);
        }
    }

    internal static void WriteValue(StringBuilder text, object value, int indent)
    {
        switch (value)
        {
            case YamlMap map:
                text.Append('\n');
                map.Write(text, indent + 2);
                break;
            case YamlList list:
                text.Append('\n');
                list.Write(text, indent + 2);
                break;
            case YamlScalar scalar:
                text.Append(' ').Append(scalar.Text).Append('\n');
                break;
            default:
                throw new InvalidOperationException($"not a YAML value: {value.GetType()}");
        }
    }
}

internal sealed class YamlList
{
    private readonly List<(string[] Comments, object Value)> _items = [];

    public bool IsEmpty => _items.Count == 0;

    public void Add(object value, params string[] comments) => _items.Add((comments, value));

    public void Write(StringBuilder text, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var (comments, value) in _items)
        {
            foreach (var comment in comments)
                text.Append(pad).Append("# ").Append(YamlScalar.CommentText(comment)).Append('\n');
            if (value is YamlMap map)
            {
                // "- " then the map's keys indented to line up after the dash.
                var inner = new StringBuilder();
                map.Write(inner, indent + 2);
                var body = inner.ToString();
                text.Append(pad).Append("- ").Append(body.AsSpan(indent + 2));
            }
            else
            {
                text.Append(pad).Append('-');
                YamlMap.WriteValue(text, value, indent);
            }
        }
    }
}

/// <summary>A scalar as it is written in the file.</summary>
internal sealed record YamlScalar(string Text)
{
    /// <summary>Text from the ini: single-quoted; double-quoted with <c>\uXXXX</c> escapes when it holds a line break or
    /// a control character, which a single-quoted scalar would fold or carry onto a line of its own.</summary>
    public static YamlScalar Quoted(string value)
    {
        if (!value.Any(IsBreakOrControl))
            return new("'" + value.Replace("'", "''", StringComparison.Ordinal) + "'");
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
                text.Append('\\').Append(c);
            else if (IsBreakOrControl(c))
                text.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            else
                text.Append(c);
        }
        return new(text.Append('"').ToString());
    }

    /// <summary>A value the importer made itself (a number, true/false, a mode name), written plain.</summary>
    public static YamlScalar Plain(string value) => new(value);

    public static YamlScalar Plain(int value) => new(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Keys are the importer's own names (dhcp, boot-files) except architecture numbers, which must stay
    /// strings: quoted when not a plain lower-case name.</summary>
    public static string Key(string key) =>
        key.Length > 0 && key.All(c => c is (>= 'a' and <= 'z') or '-') ? key : Quoted(key).Text;

    /// <summary>Comments are one line: a line break would end the comment and turn the rest into YAML. The ini
    /// reader splits lines on LF only, so a value can still hold what YamlDotNet also reads as a line break (U+0085,
    /// U+2028, U+2029, a lone CR); those and other control characters, and tabs, are shown as a space.</summary>
    public static string CommentText(string comment) =>
        string.Create(comment.Length, comment, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
                span[i] = IsBreakOrControl(text[i]) || text[i] == '\t' ? ' ' : text[i];
        });

    /// <summary>C0 and C1 controls but tab (U+0085, NEL, among them), and the line and paragraph separators: YamlDotNet
    /// reads U+0085, U+2028 and U+2029 as line breaks, as YAML 1.1 does.</summary>
    private static bool IsBreakOrControl(char c) => (char.IsControl(c) && c != '\t') || c is '\u2028' or '\u2029';
}
