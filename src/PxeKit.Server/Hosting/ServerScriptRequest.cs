using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>Everything a script run is started from, already validated: the entry, the request and what is known
/// of the client.</summary>
/// <param name="FilePath">Full path of the requested script file under the root; null for a <c>path</c> entry.</param>
/// <param name="UrlPath">The path the client asked for ("/iscsi.ps1").</param>
/// <param name="RawQuery">The query as sent, without the '?'.</param>
/// <param name="Mac">The client's MAC (lower-case colon form), when known.</param>
/// <param name="Client">Facts the boot trace holds about the client, when one is registered and knows it.</param>
internal sealed record ServerScriptRequest(
    ServerScriptOptions Script,
    string? FilePath,
    string UrlPath,
    string RawQuery,
    string Method,
    IReadOnlyList<ScriptParameter> Parameters,
    string? Mac,
    IPAddress? ClientAddress,
    IPAddress? ServerAddress,
    int ServerPort,
    BootClient? Client)
{
    /// <summary>PATH for the program on Unix: the usual system directories, not the server's own PATH (which may
    /// name a user's directories when pxekit was started by hand).</summary>
    public const string UnixPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Variables Windows programs need to run at all (PowerShell and cscript fail without SystemRoot,
    /// temporary directories and the program directories); copied from the server's own environment.</summary>
    private static readonly string[] WindowsPassThrough =
    [
        "SystemRoot", "SystemDrive", "windir", "ComSpec", "PATH", "PATHEXT", "TEMP", "TMP", "ProgramData",
        "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "CommonProgramFiles", "CommonProgramFiles(x86)",
        "PSModulePath", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
    ];

    /// <summary>The program's arguments: the configured ones with <c>{file}</c> replaced (an <c>extension</c> entry
    /// without <c>{file}</c> gets the file after them), then one per query parameter, in order.</summary>
    public List<string> BuildArguments()
    {
        var arguments = new List<string>(Script.Arguments.Count + Parameters.Count + 1);
        var placedFile = false;
        foreach (var argument in Script.Arguments)
        {
            if (FilePath is not null && argument.Contains(ServerScriptOptions.FilePlaceholder, StringComparison.Ordinal))
            {
                arguments.Add(argument.Replace(ServerScriptOptions.FilePlaceholder, FilePath, StringComparison.Ordinal));
                placedFile = true;
            }
            else
            {
                arguments.Add(argument);
            }
        }
        if (FilePath is not null && !placedFile)
            arguments.Add(FilePath);
        foreach (var parameter in Parameters)
            arguments.Add(parameter.Argument);
        return arguments;
    }

    /// <summary>The program's whole environment: a small fixed base and what the request says, nothing inherited
    /// from the server on Unix (its secrets, proxies and library paths are none of a script's business).</summary>
    public Dictionary<string, string> BuildEnvironment(string root, string home)
    {
        var environment = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        if (OperatingSystem.IsWindows())
        {
            foreach (var name in WindowsPassThrough)
            {
                if (Environment.GetEnvironmentVariable(name) is { } value)
                    environment[name] = value;
            }
        }
        else
        {
            environment["PATH"] = UnixPath;
            environment["HOME"] = home;
        }
        environment["LANG"] = "C.UTF-8";
        environment["PXEKIT_ROOT"] = root;

        // Query parameters first, so that a parameter can never replace one of the variables below.
        foreach (var parameter in Parameters)
        {
            if (parameter.Name is { Length: > 0 } name)
                environment["PXEKIT_QUERY_" + VariableName(name)] = parameter.Value;
        }

        if (Mac is not null)
        {
            environment["PXEKIT_MAC"] = Mac;
            environment["PXEKIT_MAC_HYPHEN"] = ScriptQuery.Hyphenated(Mac);
        }
        if (ClientAddress is not null)
            environment["PXEKIT_IP"] = NetworkAddress.Unmapped(ClientAddress)!.ToString();
        if (ServerAddress is not null)
        {
            var server = NetworkAddress.Unmapped(ServerAddress)!;
            environment["PXEKIT_SERVER"] = server.ToString();
            environment["PXEKIT_HTTP_URL"] = string.Create(CultureInfo.InvariantCulture, $"http://{NetworkAddress.UrlHost(server)}:{ServerPort}");
        }
        if (Client?.Architecture is { } architecture)
            environment["PXEKIT_ARCH"] = architecture.ToString(CultureInfo.InvariantCulture);
        if (Client?.Uuid is { } uuid && IsPlain(uuid))
            environment["PXEKIT_UUID"] = uuid;
        if (Client?.Hostname is { } hostname && IsPlain(hostname))
            environment["PXEKIT_HOSTNAME"] = hostname;

        environment["QUERY_STRING"] = RawQuery;
        environment["REQUEST_METHOD"] = Method;
        environment["SCRIPT_NAME"] = UrlPath;
        if (FilePath is not null)
            environment["SCRIPT_FILENAME"] = FilePath;
        return environment;
    }

    /// <summary>The program started directly (no shell), in the root, with an empty standard input.</summary>
    public ProcessStartInfo BuildStartInfo(string root, string home)
    {
        var start = new ProcessStartInfo(Script.Program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = root,
        };
        foreach (var argument in BuildArguments())
            start.ArgumentList.Add(argument);
        start.Environment.Clear();
        foreach (var (name, value) in BuildEnvironment(root, home))
            start.Environment[name] = value;
        return start;
    }

    /// <summary>"mac" → "MAC", "boot-file" → "BOOT_FILE": upper case, anything but A-Z, 0-9 and '_' becomes '_'.</summary>
    public static string VariableName(string name) => string.Create(name.Length, name, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            var c = char.ToUpperInvariant(source[i]);
            span[i] = char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_' ? c : '_';
        }
    });


    /// <summary>Facts a client reported about itself (DHCP option 12, iPXE's ${uuid}) reach the environment only
    /// when they hold no control characters.</summary>
    private static bool IsPlain(string value) => !value.Any(char.IsControl);
}
