using System.Buffers.Binary;
using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;
using PxeKit.Formats.Registry;

namespace PxeKit.EndToEnd.Formats;

/// <summary>
/// hivex (libguestfs) as the independent reader: `hivexregedit --export FILE '\'` turned into comparable lines
/// "[path]" and "[path] "name"=type:hex", the same shape as <see cref="Of(RegistryHive)"/> gives for our reader.
/// </summary>
internal static class HivexExport
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static async Task<SortedSet<string>> ExportAsync(string file)
    {
        var program = ExternalTool.Require("hivexregedit", "libwin-hivex-perl");
        var result = await ExternalTool.RunAsync(program, ["--export", file, "\\"], Limit);
        Assert.True(result.ExitCode == 0, result.Describe());
        return Parse(result.StandardOutput);
    }

    public static SortedSet<string> Parse(string export)
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        string? key = null;
        foreach (var raw in export.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith("Windows Registry Editor", StringComparison.Ordinal))
                continue;
            if (line.StartsWith('['))
            {
                key = line[1..^1];
                lines.Add($"[{key}]");
                continue;
            }
            string name;
            string data;
            if (line.StartsWith("@=", StringComparison.Ordinal))
            {
                name = "";
                data = line[2..];
            }
            else
            {
                var close = line.IndexOf("\"=", 1, StringComparison.Ordinal);
                name = line[1..close].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
                data = line[(close + 2)..];
            }
            var (type, bytes) = Decode(data);
            lines.Add($"[{key}] \"{name}\"={type}:{Convert.ToHexStringLower(bytes)}");
        }
        return lines;
    }

    /// <summary>Our reader's view in the same shape.</summary>
    public static SortedSet<string> Of(RegistryHive hive)
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        var stack = new Stack<RegistryKey>();
        stack.Push(hive.Root);
        while (stack.Count > 0)
        {
            var key = stack.Pop();
            var path = key.Parent is null ? "\\" : key.Path;
            lines.Add($"[{path}]");
            foreach (var value in key.Values)
                lines.Add($"[{path}] \"{value.Name}\"={(uint)value.Type}:{Convert.ToHexStringLower(value.Data.Span)}");
            foreach (var child in key.SubKeys)
                stack.Push(child);
        }
        return lines;
    }

    private static (uint Type, byte[] Bytes) Decode(string data)
    {
        if (data.StartsWith("dword:", StringComparison.Ordinal))
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, uint.Parse(data[6..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
            return (4, bytes);
        }
        if (data.StartsWith('"'))
            return (1, RegistryValue.EncodeString(data[1..^1]));
        var colon = data.IndexOf(':', StringComparison.Ordinal);
        var prefix = data[..colon];
        var type = prefix == "hex" ? 3u : uint.Parse(prefix[4..^1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var hex = data[(colon + 1)..].Replace(",", "", StringComparison.Ordinal);
        return (type, Convert.FromHexString(hex));
    }
}
