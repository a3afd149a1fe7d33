using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Runs the configured server-side scripts (`scripts:`) for HTTP requests, as Tiny PXE Server ran <c>.php</c>,
/// <c>.py</c> and <c>.vbs</c> files, and as the seed's <c>http://@opt54/iscsi.ps1?@mac</c> provisioning script needs:
/// the program's standard output is the answer. Safely: the program is started directly with an argument list
/// (never a shell), with a clean environment, an empty standard input, a time limit after which its whole process
/// tree is killed, a cap on its output and on how many runs go at once; a client that disconnects stops it too.
/// </summary>
/// <remarks>
/// A failure is answered with an iPXE script that shows the reason on the booting machine's screen. iPXE drops the
/// body of any answer that is not 2xx (httpcore.c turns the status into an error before reading it), so an iPXE client
/// (User-Agent "iPXE/...") gets that script with status 200, and its <c>exit 1</c> still fails the <c>chain</c>; every
/// other client (curl, a browser, monitoring) gets 500, or 504 for a time-out. The concurrency cap answers 503 with
/// <c>Retry-After</c>, which iPXE obeys by retrying the request itself.
/// </remarks>
internal sealed partial class ServerScripts
{
    /// <summary>Seconds iPXE waits before retrying a 503 (it honours Retry-After only on 503).</summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>Bytes of standard error kept for the log: the last lines are the ones that say what went wrong.</summary>
    public const int StderrTailBytes = 2048;

    /// <summary>How long to wait for a killed program to be gone before giving up on it in the log.</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<ServerScriptOptions> _scripts;
    private readonly Dictionary<ServerScriptOptions, SemaphoreSlim> _slots = [];
    private readonly LiveBootConfiguration _live;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IBootTrace? _trace;
    private readonly string _home;

    public ServerScripts(PxeKitOptions options, LiveBootConfiguration live, TimeProvider time, ILoggerFactory loggers, IServiceProvider services)
    {
        _scripts = options.Scripts;
        foreach (var script in _scripts)
            _slots[script] = new SemaphoreSlim(script.MaxConcurrent, script.MaxConcurrent);
        _live = live;
        _time = time;
        _logger = loggers.CreateLogger("PxeKit.Scripts");
        _trace = services.GetService<IBootTrace>();
        // Not the boot root: interpreters write caches and history under HOME (pwsh, python), and whatever lands in
        // the root is served to anyone.
        _home = Path.Combine(Path.GetFullPath(options.DataDirectory), "script-home");
    }

    /// <summary>The <c>extension</c> entry that runs <paramref name="lookup"/>'s file, or null when the file is served
    /// as it is. Both the name asked for and the file it resolves to count, so that no link or remap rule can serve a
    /// script's source (it may hold passwords).</summary>
    public ServerScriptOptions? ForFile(BootFileLookup lookup)
    {
        if (!lookup.IsFound || lookup.Content is not null || _scripts.Count == 0)
            return null;
        return ForName(lookup.MappedName) ?? ForName(lookup.FullPath) ?? ForName(lookup.RequestedName);
    }

    /// <summary>An editor's copy of a script (<c>iscsi.ps1~</c>, <c>iscsi.ps1.bak</c>, vim's <c>.iscsi.ps1.swp</c>):
    /// the script's source under a name that does not end in its extension, never to be served.</summary>
    public bool IsScriptCopy(BootFileLookup lookup)
    {
        if (!lookup.IsFound || lookup.Content is not null || _scripts.Count == 0)
            return false;
        foreach (var name in new[] { lookup.MappedName, lookup.FullPath, lookup.RequestedName })
        {
            if (name is null)
                continue;
            foreach (var script in _scripts)
            {
                if (script.Extension is not { } extension)
                    continue;
                var at = name.LastIndexOf(extension, StringComparison.OrdinalIgnoreCase);
                if (at >= 0 && at + extension.Length < name.Length && name[at + extension.Length] is '~' or '.' or '#' or '-' or '_')
                    return true;
            }
        }
        return false;
    }

    private ServerScriptOptions? ForName(string? name)
    {
        if (name is null)
            return null;
        foreach (var script in _scripts)
        {
            if (script.Extension is { } extension && name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
                return script;
        }
        return null;
    }

    /// <summary>Routes each <c>path</c> entry; a literal route wins over the boot root's catch-all, so the entry is
    /// used even when a file of that name exists.</summary>
    public void MapPaths(WebApplication app)
    {
        foreach (var script in _scripts)
        {
            if (script.Path is { } path)
                app.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext _) => Run(script, null));
        }
    }

    /// <summary>The answer to a request for <paramref name="script"/> (of <paramref name="file"/>, for an
    /// <c>extension</c> entry): the program runs when the result executes.</summary>
    public IResult Run(ServerScriptOptions script, BootFileLookup? file) => new ScriptResult(this, script, file);

    private sealed class ScriptResult(ServerScripts scripts, ServerScriptOptions script, BootFileLookup? file) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => scripts.ExecuteAsync(httpContext, script, file);
    }

    private async Task ExecuteAsync(HttpContext context, ServerScriptOptions script, BootFileLookup? file)
    {
        var urlPath = context.Request.Path.Value ?? "/";
        var rawQuery = context.Request.QueryString.Value ?? "";
        var requested = Printable(urlPath + rawQuery);
        var clientAddress = context.Connection.RemoteIpAddress;
        var started = _time.GetTimestamp();

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            // As for files: a body on a GET is where request smuggling hides; refuse and close.
            context.Response.Headers.Connection = "close";
            await RefuseAsync(context, script, requested, clientAddress, null, "a GET or HEAD with a request body", StatusCodes.Status400BadRequest);
            return;
        }
        if (!ScriptQuery.TryParse(rawQuery, out var parameters, out var refusal))
        {
            await RefuseAsync(context, script, requested, clientAddress, null, refusal!, StatusCodes.Status400BadRequest);
            return;
        }

        var mac = ScriptQuery.FindMac(parameters) ?? (clientAddress is null ? null : _trace?.MacForAddress(clientAddress));
        var slot = _slots[script];
        if (!slot.Wait(0))
        {
            LogBusy(_logger, clientAddress, mac ?? "-", requested, script.MaxConcurrent, script.Name, RetryAfterSeconds);
            Record(BootEventKind.ServerScriptFailed, mac, clientAddress, urlPath + rawQuery, script.Program, 0, started,
                $"refused: {script.MaxConcurrent} runs already (max-concurrent)");
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await WriteFailureAsync(context, urlPath, $"busy ({script.MaxConcurrent} runs at once); retrying in {RetryAfterSeconds} s",
                StatusCodes.Status503ServiceUnavailable, keepStatusForIpxe: true);
            return;
        }

        try
        {
            var request = new ServerScriptRequest(script, file?.FullPath, urlPath, rawQuery.TrimStart('?'), context.Request.Method,
                parameters, mac, clientAddress, context.Connection.LocalIpAddress, context.Connection.LocalPort,
                mac is null ? null : _trace?.FindByMac(mac));
            var outcome = await RunProgramAsync(request, context.RequestAborted);
            var duration = _time.GetElapsedTime(started);
            var arguments = Printable(string.Join(' ', request.BuildArguments()));
            if (outcome.Failure is null)
            {
                LogRan(_logger, clientAddress, mac ?? "-", requested, script.Program, outcome.Length, duration.TotalMilliseconds);
                Record(BootEventKind.ServerScriptRun, mac, clientAddress, urlPath + rawQuery, script.Program, outcome.Length, started, "exit code 0");
                await WriteOutputAsync(context, script, outcome);
                return;
            }

            Record(BootEventKind.ServerScriptFailed, mac, clientAddress, urlPath + rawQuery, script.Program, outcome.Length, started, outcome.Failure);
            if (outcome.ClientGone)
            {
                LogClientGone(_logger, clientAddress, mac ?? "-", requested, duration.TotalSeconds, script.Program);
                return;
            }
            LogFailed(_logger, clientAddress, mac ?? "-", requested, outcome.Failure, script.Program, arguments,
                outcome.StderrTail.Length == 0 ? "(nothing)" : outcome.StderrTail);
            await WriteFailureAsync(context, urlPath, outcome.Failure,
                outcome.TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status500InternalServerError, keepStatusForIpxe: false);
        }
        finally
        {
            slot.Release();
        }
    }

    private sealed record Outcome(byte[] Output, int Length, string? Failure, string StderrTail, bool TimedOut = false, bool ClientGone = false);

    /// <summary>Runs the program to its end, or until its time limit, its output cap or the client's disconnection,
    /// after which its process tree is killed. Never throws for anything the program does.</summary>
    private async Task<Outcome> RunProgramAsync(ServerScriptRequest request, CancellationToken clientGone)
    {
        var script = request.Script;
        TryCreateHome();
        using var process = new Process { StartInfo = request.BuildStartInfo(_live.Current.Files.Root, _home) };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            return new Outcome([], 0, $"cannot start {script.Program}: {e.Message}", "");
        }

        // An empty standard input: a program that reads it gets end-of-file at once instead of waiting forever.
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program has already exited; nothing to tell it.
        }

        // Standard error is drained all along, whatever the program writes, so that a full pipe can never stop it
        // (and us waiting for its output); only the tail is kept.
        var stderr = ReadTailAsync(process.StandardError.BaseStream, StderrTailBytes);
        using var timeout = new CancellationTokenSource(script.Timeout, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, clientGone);
        var output = new MemoryStream();
        string? failure = null;
        bool timedOut = false, gone = false;
        try
        {
            if (!await ReadCappedAsync(process.StandardOutput.BaseStream, output, script.MaxOutput, stop.Token))
            {
                failure = $"wrote more than {script.MaxOutput} bytes to standard output (max-output); process tree killed";
                KillTree(process);
            }
            else
            {
                await process.WaitForExitAsync(stop.Token);
                if (process.ExitCode != 0)
                    failure = $"exited with code {process.ExitCode}";
            }
        }
        catch (OperationCanceledException)
        {
            var exitedAlready = process.HasExited;
            KillTree(process);
            if (clientGone.IsCancellationRequested)
            {
                gone = true;
                failure = "the client disconnected; process tree killed";
            }
            else
            {
                timedOut = true;
                failure = $"timed out after {script.Timeout.TotalSeconds:0.###} s; "
                    + (exitedAlready ? "the program had exited, but a process it started kept its output open" : "process tree killed");
            }
        }
        finally
        {
            if (!process.HasExited)
                KillTree(process);
        }

        await WaitGoneAsync(process);
        string tail;
        try
        {
            tail = await stderr.WaitAsync(TimeSpan.FromSeconds(2), _time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            tail = "(standard error still held open by a process the program started)";
        }
        return new Outcome(output.GetBuffer(), (int)output.Length, failure, tail, timedOut, gone);
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="output"/> to its end; false as soon as it holds
    /// more than <paramref name="cap"/> bytes.</summary>
    private static async Task<bool> ReadCappedAsync(Stream source, MemoryStream output, long cap, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellation)) > 0)
            {
                if (output.Length + read > cap)
                    return false;
                output.Write(buffer, 0, read);
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads <paramref name="source"/> to its end and returns its last <paramref name="keep"/> bytes as
    /// printable text (lines joined with " | ").</summary>
    private static async Task<string> ReadTailAsync(Stream source, int keep)
    {
        var tail = new byte[keep * 2];
        var length = 0;
        var buffer = new byte[4096];
        var cut = false;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                if (read >= keep)
                {
                    Buffer.BlockCopy(buffer, read - keep, tail, 0, keep);
                    (length, cut) = (keep, true);
                    continue;
                }
                if (length + read > tail.Length)
                {
                    // Keep the newest bytes: the old ones that, with this block, make `keep`.
                    var old = keep - read;
                    Buffer.BlockCopy(tail, length - old, tail, 0, old);
                    (length, cut) = (old, true);
                }
                Buffer.BlockCopy(buffer, 0, tail, length, read);
                length += read;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe went away with the killed program; what was read is what there is.
        }
        var start = Math.Max(0, length - keep);
        var text = Encoding.UTF8.GetString(tail, start, length - start).Trim();
        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return (cut || start > 0 ? "... " : "") + Printable(string.Join(" | ", lines));
    }

    private void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        catch (Exception e) when (e is Win32Exception or AggregateException or NotSupportedException)
        {
            LogKillFailed(_logger, process.Id, e.Message);
        }
    }

    /// <summary>Waits (bounded) until a killed program is gone and reaped, so that no zombie is left.</summary>
    private async Task WaitGoneAsync(Process process)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(KillWait, _time);
        }
        catch (TimeoutException)
        {
            LogKillFailed(_logger, process.Id, $"still running {KillWait.TotalSeconds:0} s after SIGKILL");
        }
    }

    private void TryCreateHome()
    {
        try
        {
            Directory.CreateDirectory(_home);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The program runs with a HOME that does not exist; most do not care, and the next run tries again.
        }
    }

    private static async Task WriteOutputAsync(HttpContext context, ServerScriptOptions script, Outcome outcome)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = script.ContentType;
        response.ContentLength = outcome.Length;
        response.Headers.CacheControl = "no-store"; // per client and per moment; never cached
        if (HttpMethods.IsHead(context.Request.Method))
            return;
        try
        {
            await response.Body.WriteAsync(outcome.Output.AsMemory(0, outcome.Length), context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client left while we answered; nothing more to do.
        }
    }

    private async Task RefuseAsync(HttpContext context, ServerScriptOptions script, string requested, IPAddress? client, string? mac,
        string reason, int status)
    {
        LogRefused(_logger, client, requested, reason);
        Record(BootEventKind.HttpRefused, mac, client, requested, script.Program, 0, _time.GetTimestamp(), reason);
        await WriteFailureAsync(context, context.Request.Path.Value ?? "/", "refused: " + reason, status, keepStatusForIpxe: false);
    }

    /// <summary>Answers with an iPXE script that shows <paramref name="reason"/>, waits for a key (10 s at most) and
    /// fails the chain.</summary>
    private static async Task WriteFailureAsync(HttpContext context, string urlPath, string reason, int status, bool keepStatusForIpxe)
    {
        var response = context.Response;
        var isIpxe = context.Request.Headers.UserAgent.ToString().StartsWith("iPXE/", StringComparison.OrdinalIgnoreCase);
        response.StatusCode = isIpxe && !keepStatusForIpxe ? StatusCodes.Status200OK : status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var body = Encoding.UTF8.GetBytes(FailureScript(urlPath, reason));
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method))
            return;
        try
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client left; the failure is logged already.
        }
    }

    /// <summary>The iPXE script of a failure. The text is reduced to characters iPXE prints as they are: '$' would
    /// expand settings, quotes and backslashes are parsed, and '||' or '&amp;&amp;' would chain commands.</summary>
    internal static string FailureScript(string urlPath, string reason) =>
        $"""
        #!ipxe
        echo PxeKit: server script {IpxeText(urlPath)} failed: {IpxeText(reason)}
        prompt --timeout 10000 Press any key to continue ||
        exit 1

        """.ReplaceLineEndings("\n");

    internal static string IpxeText(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            span[i] = char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or ',' or ':' or '/' or '_' or '-' or '+' or '=' or '@' or '(' or ')' or '[' or ']' or '%' or '?'
                ? c
                : '_';
        }
    });

    private void Record(BootEventKind kind, string? mac, IPAddress? client, string requested, string? served, long bytes, long started, string? detail)
    {
        _trace?.Record(new BootEvent(_time.GetUtcNow(), kind, mac, client, requested, served, bytes, _time.GetElapsedTime(started), detail));
    }

    internal static string Printable(string text) => Logging.ClientText.Printable(text);

    [LoggerMessage(3100, LogLevel.Information, "Script {Client} {Mac} {Requested}: {Program} exited 0, {Bytes} bytes in {Milliseconds:0} ms")]
    private static partial void LogRan(ILogger logger, IPAddress? client, string? mac, string requested, string program, int bytes, double milliseconds);

    [LoggerMessage(3101, LogLevel.Warning, "Script {Client} {Mac} {Requested} failed: {Reason}. Program: {Program} {Arguments}; its standard error ends: {Stderr}")]
    private static partial void LogFailed(ILogger logger, IPAddress? client, string? mac, string requested, string reason, string program, string arguments, string stderr);

    [LoggerMessage(3102, LogLevel.Information, "Script refused {Client} '{Requested}': {Reason}")]
    private static partial void LogRefused(ILogger logger, IPAddress? client, string requested, string reason);

    [LoggerMessage(3103, LogLevel.Warning, "Script {Client} {Mac} {Requested} not run: {Running} runs of {Entry} already going (max-concurrent); answered 503, retry in {Seconds} s")]
    private static partial void LogBusy(ILogger logger, IPAddress? client, string? mac, string requested, int running, string entry, int seconds);

    [LoggerMessage(3104, LogLevel.Information, "Script {Client} {Mac} {Requested}: the client disconnected after {Seconds:0.0} s; {Program} and its children were killed")]
    private static partial void LogClientGone(ILogger logger, IPAddress? client, string? mac, string requested, double seconds, string program);

    [LoggerMessage(3105, LogLevel.Error, "Script process {Pid} could not be killed: {Reason}")]
    private static partial void LogKillFailed(ILogger logger, int pid, string reason);
}
