using PxeKit.Formats.Registry;

namespace PxeKit.Tests.Formats.Registry;

/// <summary>The logical content of a hive as comparable lines: key paths, and values with type and hex data.</summary>
internal static class HiveSnapshot
{
    public static List<string> Of(RegistryHive hive)
    {
        var lines = new List<string>();
        var stack = new Stack<RegistryKey>();
        stack.Push(hive.Root);
        while (stack.Count > 0)
        {
            var key = stack.Pop();
            var path = key.Parent is null ? "\\" : key.Path;
            lines.Add($"[{path}]");
            foreach (var value in key.Values.OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase))
                lines.Add($"[{path}] \"{value.Name}\"={(uint)value.Type}:{Convert.ToHexStringLower(value.Data.Span)}");
            for (var i = key.SubKeys.Count - 1; i >= 0; i--)
                stack.Push(key.SubKeys[i]);
        }
        return lines;
    }
}
