using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Serves the boot root over HTTP with the same path mapping as TFTP: GET and HEAD, one byte range (206 with
/// Content-Range; iPXE's <c>sanboot http://</c> reads disks by range), conditional requests, no listings.
/// ASP.NET Core's file result does ranges, ETags and sendfile; a request with several ranges gets the whole
/// file (200), which bounds the work of an "Apache Killer" request (hostile-inputs H1).
/// </summary>
internal static partial class HttpBootFiles
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    public static void Map(WebApplication app, LiveBootConfiguration live)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PxeKit.Http");
        var bootLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PxeKit.Boot");
        var bootTrace = app.Services.GetRequiredService<IBootTrace>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var trace = new HttpTrace(bootTrace, time);
        var scripts = app.Services.GetRequiredService<ServerScripts>();
        app.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext context) => Serve(context, live.Current, scripts, bootTrace, trace, logger, bootLogger, time));
    }

    private static IResult Serve(HttpContext context, BootConfiguration configuration, ServerScripts scripts, IBootTrace bootTrace,
        HttpTrace trace, ILogger logger, ILogger bootLogger, TimeProvider time)
    {
        var files = configuration.Files;
        var started = trace.Start();
        // Kestrel has already decoded %XX (except %2F) and removed dot segments; the boot file system then refuses
        // "..", backslash tricks and links out of the root on the decoded name (hostile-inputs H4).
        var requested = context.Request.Path.Value ?? "/";
        var client = context.Connection.RemoteIpAddress;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            // A GET or HEAD has no use for a body, and a body is where request smuggling hides (CVE-2025-55315, a
            // chunk extension ending in a bare LF; hostile-inputs H6). Refuse before serving and close, so that no
            // byte of it is ever read as a request.
            LogRefused(logger, client, Printable(requested), "a GET or HEAD with a request body");
            trace.Record(context, BootEventKind.HttpRefused, requested, null, "a GET or HEAD with a request body");
            context.Response.Headers.Connection = "close";
            return Results.BadRequest();
        }

        if (configuration.Policy is not null && requested.AsSpan().TrimStart('/').Equals(configuration.ScriptPath, StringComparison.OrdinalIgnoreCase))
            return BootScriptEndpoint.Serve(context, configuration, bootTrace, bootLogger, time);

        var lookup = files.Resolve(requested);
        if (!lookup.IsFound)
        {
            if (lookup.Status == BootFileStatus.Refused)
                LogRefused(logger, client, Printable(requested), lookup.Reason!);
            else
                LogNotFound(logger, client, Printable(requested), lookup.Reason!);
            trace.Record(context, lookup.Status == BootFileStatus.Refused ? BootEventKind.HttpRefused : BootEventKind.HttpNotFound,
                requested, null, lookup.Reason);
            return lookup.Status == BootFileStatus.Refused ? Results.BadRequest() : Results.NotFound();
        }
        if (scripts.ForFile(lookup) is { } script)
            return scripts.Run(script, lookup); // a server-side script runs; its source is never served
        if (scripts.IsScriptCopy(lookup))
        {
            LogRefused(logger, client, Printable(requested), $"'{lookup.MappedName}' is a copy of a server-side script (an editor's backup); its source is not served");
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        if (lookup.MatchedIgnoringCase)
            LogCaseInsensitive(logger, client, requested, lookup.MappedName!);
        var method = context.Request.Method;
        context.Response.OnCompleted(() =>
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                LogServed(logger, client, method, lookup.MappedName!, context.Response.StatusCode,
                    context.Response.ContentLength ?? 0);
            }
            trace.Served(context, requested, lookup.MappedName!, started);
            return Task.CompletedTask;
        });
        if (configuration.IsTemplate(lookup.MappedName!))
            return BootScriptEndpoint.ServeTemplate(context, configuration, lookup, bootTrace, bootLogger);

        var generated = lookup.Content;
        var info = generated is null ? new FileInfo(lookup.FullPath!) : null;
        var range = context.Request.Headers.Range;
        if (range.Count > 0 && ((generated?.Length ?? info!.Length) == 0 || !IsByteRange(range)))
        {
            // RFC 9110 §14.2: a Range in a unit the server does not know MUST be ignored (ASP.NET Core reads
            // "items=0-5" as bytes 0-5), and a Range on an empty representation MAY be: ASP.NET Core answers 416 there,
            // wrong for a suffix range, which §14.1.2 calls satisfiable though no Content-Range can spell it.
            context.Request.Headers.Range = StringValues.Empty;
        }

        if (generated is not null)
        {
            // Generated stores are deterministic, so a hash of the bytes is a stable validator.
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(generated).AsSpan(0, 8));
            return Results.Bytes(generated, "application/octet-stream", fileDownloadName: null,
                enableRangeProcessing: true, lastModified: null, entityTag: new EntityTagHeaderValue($"\"{hash}\""));
        }

        var etag = new EntityTagHeaderValue(
            string.Create(CultureInfo.InvariantCulture, $"\"{info!.Length:x}-{info.LastWriteTimeUtc.Ticks:x}\""));
        var contentType = ContentTypes.TryGetContentType(info.Name, out var type) ? type : "application/octet-stream";
        return Results.File(info.FullName, contentType, fileDownloadName: null,
            lastModified: info.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true);
    }

    private static bool IsByteRange(StringValues range) =>
        range.Count == 1 && range[0] is { } value && value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase);

    /// <summary>A client's name for a log line, control characters (why most such names are refused) escaped as
    /// <c>\u000D</c>: a CR or LF written raw would end our line and let the client forge the next one.</summary>
    private static string Printable(string name) => Logging.ClientText.Printable(name);

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        foreach (var extension in new[] { ".efi", ".kpxe", ".pxe", ".0", ".wim", ".sdi", ".img", ".vhd", ".vhdx", ".lkrn", ".c32", ".com", ".n12" })
            provider.Mappings[extension] = "application/octet-stream";
        provider.Mappings[".ipxe"] = "text/plain; charset=utf-8";
        provider.Mappings[".cfg"] = "text/plain; charset=utf-8";
        provider.Mappings[".iso"] = "application/x-iso9660-image";
        return provider;
    }

    [LoggerMessage(1200, LogLevel.Information, "HTTP {Client} {Method} {Served}: {Status}, {Bytes} bytes")]
    private static partial void LogServed(ILogger logger, System.Net.IPAddress? client, string method, string served, int status, long bytes);

    [LoggerMessage(1201, LogLevel.Information, "HTTP refused {Client} '{Requested}': {Reason}")]
    private static partial void LogRefused(ILogger logger, System.Net.IPAddress? client, string requested, string reason);

    [LoggerMessage(1202, LogLevel.Information, "HTTP {Client} '{Requested}' not found: {Reason}")]
    private static partial void LogNotFound(ILogger logger, System.Net.IPAddress? client, string requested, string reason);

    [LoggerMessage(1203, LogLevel.Information, "HTTP {Client} asked for '{Requested}'; serving '{Served}' (matched ignoring letter case)")]
    private static partial void LogCaseInsensitive(ILogger logger, System.Net.IPAddress? client, string requested, string served);
}
