using System.Text;
using System.Text.Json;

namespace PxeKit.Formats.Bcd;

/// <summary>
/// Renders a store like <c>bcdedit /store FILE /enum all</c> (spec §4): per object a heading, a rule of
/// dashes, <c>identifier</c> and then the elements in ascending type order, each name left-justified in 24
/// columns; well-known objects by alias; the object {bootmgr} defaults to shown as {default} unless verbose.
/// Object order: {fwbootmgr}, {bootmgr}, the display order, the tools display order, then remaining
/// applications, inheritable settings and device options, each group by type and id.
/// </summary>
public static class BcdEnumeration
{
    private const int NameColumn = 24;

    /// <summary>One rendered element: bcdedit name, element type, format, and its value as lines of text.</summary>
    public sealed record Line(string Name, uint Type, BcdElementFormat Format, IReadOnlyList<string> Values, object? Typed);

    /// <summary>One rendered object.</summary>
    public sealed record Entry(Guid Id, string Identifier, uint ObjectType, string Heading, IReadOnlyList<Line> Lines);

    public static IReadOnlyList<Entry> Enumerate(BcdStore store, bool verbose = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        var defaultId = verbose ? null : store.DefaultObject;
        string Name(Guid id) => id == defaultId ? "{default}" : verbose ? BcdWellKnownObjects.Format(id) : BcdIdentifiers.Format(id);

        var entries = new List<Entry>();
        foreach (var item in Order(store))
        {
            var type = item.Type;
            var lines = new List<Line>();
            foreach (var element in item.Elements)
                lines.Add(Render(element, type, Name));
            entries.Add(new Entry(item.Id, Name(item.Id), type, BcdObjectTypes.Heading(type, item.Id), lines));
        }
        return entries;
    }

    public static string ToText(BcdStore store, bool verbose = false)
    {
        var text = new StringBuilder();
        foreach (var entry in Enumerate(store, verbose))
        {
            if (text.Length > 0)
                text.Append('\n');
            text.Append(entry.Heading).Append('\n');
            text.Append('-', entry.Heading.Length).Append('\n');
            AppendLine(text, "identifier", [entry.Identifier]);
            foreach (var line in entry.Lines)
                AppendLine(text, line.Name, line.Values);
        }
        return text.ToString();
    }

    public static string ToJson(BcdStore store, bool verbose = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("objects");
            foreach (var entry in Enumerate(store, verbose))
            {
                json.WriteStartObject();
                json.WriteString("identifier", entry.Identifier);
                json.WriteString("id", BcdWellKnownObjects.Format(entry.Id));
                json.WriteString("type", entry.ObjectType.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("heading", entry.Heading);
                json.WriteStartArray("elements");
                foreach (var line in entry.Lines)
                {
                    json.WriteStartObject();
                    json.WriteString("name", line.Name);
                    json.WriteString("type", line.Type.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
                    json.WriteString("format", line.Format.ToString().ToLowerInvariant());
                    json.WritePropertyName("value");
                    switch (line.Typed)
                    {
                        case bool flag: json.WriteBooleanValue(flag); break;
                        case ulong number: json.WriteNumberValue(number); break;
                        default:
                            if (line.Format is BcdElementFormat.ObjectList or BcdElementFormat.IntegerList)
                            {
                                json.WriteStartArray();
                                foreach (var value in line.Values)
                                    json.WriteStringValue(value);
                                json.WriteEndArray();
                            }
                            else
                            {
                                json.WriteStringValue(string.Join(' ', line.Values));
                            }
                            break;
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void AppendLine(StringBuilder text, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            text.Append(name).Append('\n');
            return;
        }
        text.Append(name.Length < NameColumn ? name.PadRight(NameColumn) : name + " ");
        text.Append(values[0]).Append('\n');
        for (var i = 1; i < values.Count; i++)
            text.Append(' ', NameColumn).Append(values[i]).Append('\n');
    }

    private static Line Render(BcdElement element, uint objectType, Func<Guid, string> name)
    {
        var type = element.Type;
        var label = BcdElementTypes.NameOf(type.Value, objectType);
        switch (type.Format)
        {
            case BcdElementFormat.Device:
                var device = element.AsDevice(out _);
                return new Line(label, type.Value, type.Format, [device is null ? "unknown" : BcdDeviceSyntax.Format(device)], null);
            case BcdElementFormat.String when element.AsString() is { } text:
                return new Line(label, type.Value, type.Format, [text], null);
            case BcdElementFormat.Object when element.AsObject() is { } id:
                return new Line(label, type.Value, type.Format, [name(id)], null);
            case BcdElementFormat.ObjectList when element.AsObjectList() is { } ids:
                return new Line(label, type.Value, type.Format, ids.Select(name).ToList(), null);
            case BcdElementFormat.Integer when element.AsInteger() is { } number:
                var names = BcdElementTypes.EnumValues(type.Value, objectType);
                var shown = names is not null && number < (ulong)names.Count ? names[(int)number] : BcdStore.FormatNumber(number);
                return new Line(label, type.Value, type.Format, [shown], names is null ? number : null);
            case BcdElementFormat.Boolean when element.AsBoolean() is { } flag:
                return new Line(label, type.Value, type.Format, [flag ? "Yes" : "No"], flag);
            case BcdElementFormat.IntegerList when element.AsIntegerList() is { } numbers:
                return new Line(label, type.Value, type.Format, numbers.Select(BcdElement.Hex).ToList(), null);
            default:
                // Bytes that do not fit the format: show them rather than guess.
                return new Line(label, type.Value, type.Format, [Convert.ToHexStringLower(element.Value.Data.Span)], null);
        }
    }

    private static List<BcdObject> Order(BcdStore store)
    {
        var all = store.Objects.ToDictionary(o => o.Id);
        var ordered = new List<BcdObject>();
        var seen = new HashSet<Guid>();
        void Add(Guid id)
        {
            if (all.TryGetValue(id, out var item) && seen.Add(id))
                ordered.Add(item);
        }

        Add(BcdWellKnownObjects.FirmwareBootManager);
        Add(BcdWellKnownObjects.BootManager);
        foreach (var manager in new[] { BcdWellKnownObjects.FirmwareBootManager, BcdWellKnownObjects.BootManager })
        {
            if (!all.TryGetValue(manager, out var owner))
                continue;
            foreach (var id in owner.Get(BcdElementTypes.DisplayOrder)?.AsObjectList() ?? [])
                Add(id);
        }
        foreach (var manager in new[] { BcdWellKnownObjects.FirmwareBootManager, BcdWellKnownObjects.BootManager })
        {
            if (!all.TryGetValue(manager, out var owner))
                continue;
            foreach (var id in owner.Get(BcdElementTypes.ToolsDisplayOrder)?.AsObjectList() ?? [])
                Add(id);
        }
        var rest = all.Values.Where(o => !seen.Contains(o.Id))
            .OrderBy(o => BcdObjectTypes.ObjectCode(o.Type) is >= 1 and <= 3 ? BcdObjectTypes.ObjectCode(o.Type) : 4)
            .ThenBy(o => o.Type)
            .ThenBy(o => BcdWellKnownObjects.Format(o.Id), StringComparer.Ordinal);
        foreach (var item in rest)
            Add(item.Id);
        return ordered;
    }
}
