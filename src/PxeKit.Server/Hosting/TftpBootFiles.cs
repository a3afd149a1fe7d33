using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Tftp;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>Answers the TFTP server's "which bytes?" from the boot file system.</summary>
internal sealed partial class TftpBootFiles(BootFileSystem files, ServerScripts scripts, ILogger<TftpBootFiles> logger) : ITftpFileSource
{
    public TftpOpenResult Open(string requestedName, IPEndPoint client)
    {
        var lookup = files.Resolve(requestedName);
        switch (lookup.Status)
        {
            case BootFileStatus.Refused:
                return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation", lookup.Reason!);
            case BootFileStatus.NotFound:
                return TftpOpenResult.Refused(TftpErrorCode.FileNotFound, "file not found", lookup.Reason!);
        }

        if (scripts.ForFile(lookup) is { } script)
        {
            // Its source may hold secrets, and running it here would hold the TFTP loop for seconds: HTTP only.
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation",
                $"'{lookup.MappedName}' is a server-side script ({script.Name}); it runs over HTTP only and is never sent as a file");
        }
        if (lookup.MatchedIgnoringCase)
            LogCaseInsensitiveMatch(logger, client, requestedName, lookup.MappedName!);
        if (lookup.Content is { } generated)
            return TftpOpenResult.Found(new GeneratedFile(generated), lookup.MappedName!);
        try
        {
            return TftpOpenResult.Found(BootFile.Open(lookup.FullPath!), lookup.MappedName!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "cannot read file",
                $"'{lookup.MappedName}' cannot be opened: {e.Message}");
        }
    }

    [LoggerMessage(1100, LogLevel.Information, "TFTP {Client} asked for '{Requested}'; serving '{Served}' (matched ignoring letter case)")]
    private static partial void LogCaseInsensitiveMatch(ILogger logger, IPEndPoint client, string requested, string served);
}
