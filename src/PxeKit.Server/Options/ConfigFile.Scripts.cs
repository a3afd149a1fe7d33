using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace PxeKit.Server.Options;

public static partial class ConfigFile
{
    /// <summary>`scripts:`: a list of entries, each an <c>extension</c> or a <c>path</c> mapped to a program.</summary>
    private static List<ServerScriptOptions> ParseScripts(Reader reader, YamlNode node)
    {
        const string key = "scripts";
        if (node is not YamlSequenceNode sequence)
            throw reader.Error(node, $"'{key}' must be a list of entries (- extension: .ps1 / program: ... or - path: /provision / program: ...)");
        var scripts = new List<ServerScriptOptions>();
        foreach (var item in sequence.Children)
        {
            const string k = key + "[]";
            string? extension = null, path = null, program = null;
            List<string>? arguments = null;
            var timeout = ServerScriptOptions.DefaultTimeout;
            var maxOutput = ServerScriptOptions.DefaultMaxOutput;
            var maxConcurrent = ServerScriptOptions.DefaultMaxConcurrent;
            var contentType = ServerScriptOptions.DefaultContentType;
            YamlNode? programNode = null, argsNode = null;
            reader.Mapping(item, k, new()
            {
                ["extension"] = v => extension = ScriptExtension(reader, v, k + ".extension"),
                ["path"] = v => path = ScriptPath(reader, v, k + ".path"),
                ["program"] = v => (program, programNode) = (reader.String(v, k + ".program"), v),
                ["args"] = v => (arguments, argsNode) = (ScriptArguments(reader, v, k + ".args"), v),
                ["timeout"] = v => timeout = reader.Duration(v, k + ".timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
                ["max-output"] = v => maxOutput = ByteSize(reader, v, k + ".max-output", 1, ServerScriptOptions.MaxMaxOutput),
                ["max-concurrent"] = v => maxConcurrent = reader.Int(v, k + ".max-concurrent", 1, 1024),
                ["content-type"] = v => contentType = ContentType(reader, v, k + ".content-type"),
            });

            if ((extension is null) == (path is null))
                throw reader.Error(item, $"each '{key}' entry needs exactly one of 'extension' (run files such as *.ps1 under the root) or 'path' (one URL such as /provision)");
            var name = extension ?? path;
            if (program is null)
                throw reader.Error(item, $"the '{key}' entry for {name} needs 'program' (the absolute path of the interpreter or executable)");
            if (ProgramProblem(program) is { } problem)
                throw reader.Error(programNode!, $"'{k}.program' of {name}: {problem}");
            if (path is not null && arguments is not null && arguments.Any(a => a.Contains(ServerScriptOptions.FilePlaceholder, StringComparison.Ordinal)))
                throw reader.Error(argsNode!, $"'{k}.args' of {name}: {ServerScriptOptions.FilePlaceholder} names the requested script file, and a 'path' entry has none (only 'extension' entries may use it)");
            if (scripts.Any(s => (extension is not null && string.Equals(s.Extension, extension, StringComparison.OrdinalIgnoreCase))
                || (path is not null && string.Equals(s.Path, path, StringComparison.OrdinalIgnoreCase))))
                throw reader.Error(item, $"'{key}' has two entries for {name}");

            scripts.Add(new ServerScriptOptions
            {
                Extension = extension, Path = path, Program = program, Arguments = arguments ?? [], Timeout = timeout,
                MaxOutput = maxOutput, MaxConcurrent = maxConcurrent, ContentType = contentType, Line = (int)item.Start.Line,
            });
        }
        return scripts;
    }

    /// <summary>".ps1" or "ps1", returned as ".ps1"; letters, digits, '_' and '-', and inner dots (".tar.gz").</summary>
    private static string ScriptExtension(Reader reader, YamlNode node, string key)
    {
        var text = reader.String(node, key).Trim();
        var extension = text.StartsWith('.') ? text : "." + text;
        if (!Regex.IsMatch(extension, @"^(\.[A-Za-z0-9_-]+)+$", RegexOptions.CultureInvariant))
            throw reader.Error(node, $"'{key}' must be a file extension such as .ps1 or .py, not '{text}'");
        return extension.ToLowerInvariant();
    }

    /// <summary>"/provision": an absolute URL path of plain characters, since it becomes a route and is compared
    /// with what clients send after decoding.</summary>
    private static string ScriptPath(Reader reader, YamlNode node, string key)
    {
        var text = reader.String(node, key).Trim();
        if (!Regex.IsMatch(text, @"^(/[A-Za-z0-9._~-]+)+$", RegexOptions.CultureInvariant) || text.Split('/').Any(s => s is "." or ".."))
            throw reader.Error(node, $"'{key}' must be a URL path such as /provision or /scripts/iscsi (letters, digits, '.', '_', '~', '-' between slashes), not '{text}'");
        return text;
    }

    private static List<string> ScriptArguments(Reader reader, YamlNode node, string key)
    {
        if (node is not YamlSequenceNode sequence)
            throw reader.Error(node, $"'{key}' must be a list with one argument per item, such as [\"-NoProfile\", \"-File\", \"{ServerScriptOptions.FilePlaceholder}\"]: no shell splits a line into words here");
        var arguments = new List<string>();
        foreach (var argument in sequence.Children)
        {
            if (argument is not YamlScalarNode { Value: { } value })
                throw reader.Error(argument, $"'{key}' items must be text");
            if (value.Contains('\0', StringComparison.Ordinal))
                throw reader.Error(argument, $"'{key}' items cannot contain a NUL character");
            arguments.Add(value);
        }
        return arguments;
    }

    private static string ContentType(Reader reader, YamlNode node, string key)
    {
        var text = reader.String(node, key).Trim();
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(text, out _))
            throw reader.Error(node, $"'{key}' must be a media type such as text/plain or \"text/plain; charset=utf-8\", not '{text}'");
        return text;
    }

    /// <summary>"1MiB", "512KiB", "2MB", "65536": a size in bytes (KiB/MiB/GiB are powers of 1024, KB/MB/GB of 1000).</summary>
    private static long ByteSize(Reader reader, YamlNode node, string key, long min, long max)
    {
        var text = reader.String(node, key).Trim();
        (string Suffix, long Factor)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000), ("B", 1)];
        var (number, factor) = (text, 1L);
        foreach (var (suffix, unitFactor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                (number, factor) = (text[..^suffix.Length].TrimEnd(), unitFactor);
                break;
            }
        }
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue / factor)
            throw reader.Error(node, $"'{key}' must be a size such as 1MiB, 512KiB or 65536 (bytes), not '{text}'");
        var bytes = value * factor;
        if (bytes < min || bytes > max)
            throw reader.Error(node, $"'{key}' must be between {min} bytes and {max >> 20} MiB, not {text}");
        return bytes;
    }

    /// <summary>Why <paramref name="program"/> cannot be run, or null. Checked at load so that a typo stops the
    /// start instead of failing every boot.</summary>
    internal static string? ProgramProblem(string program)
    {
        if (!System.IO.Path.IsPathFullyQualified(program))
            return $"'{program}' must be an absolute path (it is run directly, without a shell or PATH search), such as /usr/bin/pwsh";
        if (Directory.Exists(program))
            return $"'{program}' is a directory, not a program";
        if (!File.Exists(program))
            return $"'{program}' does not exist";
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            UnixFileMode mode;
            try
            {
                mode = File.GetUnixFileMode(program); // of the link's target, as execve sees it
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"'{program}' cannot be inspected: {e.Message}";
            }
            if ((mode & anyExecute) == 0)
                return $"'{program}' is not executable (chmod +x it, or name its interpreter as 'program' and the file in 'args')";
        }
        return null;
    }
}
