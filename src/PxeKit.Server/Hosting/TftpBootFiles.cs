using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Tftp;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>Answers the TFTP server's "which bytes?" from the boot file system.</summary>
internal sealed partial class TftpBootFiles(LiveBootConfiguration live, ServerScripts scripts, ILogger<TftpBootFiles> logger, IBootTrace trace, TimeProvider time) : ITftpFileSource
{
    public TftpOpenResult Open(string requestedName, IPEndPoint client)
    {
        // One generation of the configuration for the whole transfer: a reload does not change it midway.
        var configuration = live.Current;
        var lookup = configuration.Files.Resolve(requestedName);
        switch (lookup.Status)
        {
            case BootFileStatus.Refused:
                RecordRefusal(client, requestedName, BootEventKind.TftpRefused, lookup.Reason!);
                return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation", lookup.Reason!);
            case BootFileStatus.NotFound:
                RecordRefusal(client, requestedName, BootEventKind.TftpNotFound, lookup.Reason!);
                return TftpOpenResult.Refused(TftpErrorCode.FileNotFound, "file not found", lookup.Reason!);
        }

        if (scripts.IsScriptCopy(lookup))
        {
            RecordRefusal(client, requestedName, BootEventKind.TftpRefused, $"'{lookup.MappedName}' is a copy of a server-side script");
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation",
                $"'{lookup.MappedName}' is a copy of a server-side script (an editor's backup); its source is never sent");
        }
        if (scripts.ForFile(lookup) is { } script)
        {
            // Its source may hold secrets, and running it here would hold the TFTP loop for seconds: HTTP only.
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation",
                $"'{lookup.MappedName}' is a server-side script ({script.Name}); it runs over HTTP only and is never sent as a file");
        }
        if (lookup.MatchedIgnoringCase)
            LogCaseInsensitiveMatch(logger, client, requestedName, lookup.MappedName!);
        if (configuration.IsTemplate(lookup.MappedName!))
        {
            if (TemplateFiles.Read(lookup, out var refusal) is not { } template)
            {
                // Sent raw, its placeholders would reach the client unfilled; HTTP refuses it the same way.
                TemplateFiles.LogRefused(logger, lookup.MappedName!, client.Address, refusal!);
                RecordRefusal(client, requestedName, BootEventKind.TftpRefused, $"template '{lookup.MappedName}': {refusal}");
                return TftpOpenResult.Refused(TftpErrorCode.NotDefined, "template cannot be served", $"template '{lookup.MappedName}': {refusal}");
            }
            var facts = TemplateFiles.FactsFor(null, client.Address, BootConfiguration.DefaultServerAddress(configuration.Options), configuration.Options.Http.Port, configuration, trace);
            return TftpOpenResult.Found(new GeneratedFile(System.Text.Encoding.UTF8.GetBytes(BootTemplate.Expand(template, facts))), lookup.MappedName!);
        }
        if (lookup.Content is { } generated)
            return TftpOpenResult.Found(new GeneratedFile(generated), lookup.MappedName!);
        try
        {
            return TftpOpenResult.Found(BootFile.Open(lookup.FullPath!), lookup.MappedName!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RecordRefusal(client, requestedName, BootEventKind.TftpRefused, $"'{lookup.MappedName}' cannot be opened: {e.Message}");
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "cannot read file",
                $"'{lookup.MappedName}' cannot be opened: {e.Message}");
        }
    }

    [LoggerMessage(1100, LogLevel.Information, "TFTP {Client} asked for '{Requested}'; serving '{Served}' (matched ignoring letter case)")]
    private static partial void LogCaseInsensitiveMatch(ILogger logger, IPEndPoint client, string requested, string served);
}
