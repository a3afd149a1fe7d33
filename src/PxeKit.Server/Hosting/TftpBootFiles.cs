using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Tftp;
using PxeKit.Server.Boot;

namespace PxeKit.Server.Hosting;

/// <summary>Answers the TFTP server's "which bytes?" from the boot file system.</summary>
internal sealed partial class TftpBootFiles(BootFileSystem files, ILogger<TftpBootFiles> logger, IBootTrace trace, TimeProvider time) : ITftpFileSource
{
    public TftpOpenResult Open(string requestedName, IPEndPoint client)
    {
        var lookup = files.Resolve(requestedName);
        switch (lookup.Status)
        {
            case BootFileStatus.Refused:
                RecordRefusal(client, requestedName, BootEventKind.TftpRefused, lookup.Reason!);
                return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "access violation", lookup.Reason!);
            case BootFileStatus.NotFound:
                RecordRefusal(client, requestedName, BootEventKind.TftpNotFound, lookup.Reason!);
                return TftpOpenResult.Refused(TftpErrorCode.FileNotFound, "file not found", lookup.Reason!);
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
            RecordRefusal(client, requestedName, BootEventKind.TftpRefused, $"'{lookup.MappedName}' cannot be opened: {e.Message}");
            return TftpOpenResult.Refused(TftpErrorCode.AccessViolation, "cannot read file",
                $"'{lookup.MappedName}' cannot be opened: {e.Message}");
        }
    }

    [LoggerMessage(1100, LogLevel.Information, "TFTP {Client} asked for '{Requested}'; serving '{Served}' (matched ignoring letter case)")]
    private static partial void LogCaseInsensitiveMatch(ILogger logger, IPEndPoint client, string requested, string served);
}
