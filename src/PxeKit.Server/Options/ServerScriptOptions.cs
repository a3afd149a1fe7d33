namespace PxeKit.Server.Options;

/// <summary>
/// One server-side script (`scripts:` in pxekit.yaml): a program the HTTP server runs for a request instead of serving
/// a file, whose standard output is the answer, like Tiny PXE Server's <c>.php</c>, <c>.py</c> and <c>.vbs</c> files.
/// Exactly one of <see cref="Extension"/> and <see cref="Path"/> is set.
/// </summary>
public sealed class ServerScriptOptions
{
    /// <summary>10 s: an iPXE script is generated in well under a second; the seed's provisioning script (create a
    /// differencing VHD and an iSCSI target) takes a few. A booting machine waits for the answer, so a hung program
    /// must not hold it for iPXE's own minute-long HTTP timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>1 MiB: an iPXE script or menu is a few kilobytes; the output is held in memory until the program
    /// exits, so that a failing exit code can still change the status.</summary>
    public const long DefaultMaxOutput = 1 << 20;

    /// <summary>Largest <c>max-output</c> accepted: the output is buffered per request.</summary>
    public const long MaxMaxOutput = 64L << 20;

    /// <summary>4 runs at once per entry: enough for a rack booting together (each run is short), few enough that
    /// a burst of requests cannot start hundreds of interpreters.</summary>
    public const int DefaultMaxConcurrent = 4;

    public const string DefaultContentType = "text/plain; charset=utf-8";

    /// <summary>The placeholder in <see cref="Arguments"/> for the full path of the requested script file.</summary>
    public const string FilePlaceholder = "{file}";

    /// <summary>".ps1" (lower case, with its dot): any file under the boot root with this extension is run, not
    /// served. Matched ignoring letter case.</summary>
    public string? Extension { get; init; }

    /// <summary>"/provision": one URL path mapped to the program, with no file in the root.</summary>
    public string? Path { get; init; }

    /// <summary>Absolute path of the executable, run directly (never through a shell).</summary>
    public required string Program { get; init; }

    /// <summary>Arguments before the request's parameters; <c>{file}</c> is replaced by the script's full path. An
    /// <see cref="Extension"/> entry without <c>{file}</c> gets the path as the argument after these.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Most bytes of standard output; more is a failure.</summary>
    public long MaxOutput { get; init; } = DefaultMaxOutput;

    public int MaxConcurrent { get; init; } = DefaultMaxConcurrent;

    public string ContentType { get; init; } = DefaultContentType;

    /// <summary>Line of the entry in pxekit.yaml, for messages.</summary>
    public int Line { get; init; }

    /// <summary>How logs name the entry: "*.ps1" or "/provision".</summary>
    public string Name => Extension is not null ? "*" + Extension : Path!;
}
