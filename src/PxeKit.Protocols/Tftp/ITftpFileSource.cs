using System.Net;

namespace PxeKit.Protocols.Tftp;

/// <summary>
/// The one question the TFTP server asks: which bytes does this name stand for? It owns path mapping, the served
/// root, remaps and refusals; the TFTP server owns only the protocol.
/// </summary>
public interface ITftpFileSource
{
    /// <summary>
    /// Opens <paramref name="requestedName"/> (exactly as the client sent it) for <paramref name="client"/>.
    /// Never throws for a client's mistake: a name that does not exist or may not be served is a refusal with the
    /// TFTP error to send and a reason for the log.
    /// </summary>
    TftpOpenResult Open(string requestedName, IPEndPoint client);

    /// <summary>Told once when a transfer ends, successfully or not (boot traces, metrics).</summary>
    void TransferFinished(in TftpTransferSummary summary)
    {
    }
}

/// <summary>Bytes to serve: a length and positional reads. Implementations must not buffer whole images.</summary>
public interface ITftpFile : IDisposable
{
    long Length { get; }

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; fewer only at
    /// the end of the file.</summary>
    int Read(long offset, Span<byte> destination);
}

/// <summary>Result of <see cref="ITftpFileSource.Open"/>: a file, or the error for the client and the log.</summary>
public readonly struct TftpOpenResult
{
    private TftpOpenResult(ITftpFile? file, string? servedName, TftpErrorCode errorCode, string? clientMessage, string? reason)
    {
        File = file;
        ServedName = servedName;
        ErrorCode = errorCode;
        ClientMessage = clientMessage;
        Reason = reason;
    }

    public ITftpFile? File { get; }

    /// <summary>The name served after mapping (for the log), e.g. "Boot/BCD" for a request of "\Boot\BCD".</summary>
    public string? ServedName { get; }

    public TftpErrorCode ErrorCode { get; }

    /// <summary>Short text for the client's ERROR packet; it must not reveal server paths.</summary>
    public string? ClientMessage { get; }

    /// <summary>Why it was refused, in a sysadmin's words, for the log.</summary>
    public string? Reason { get; }

    public static TftpOpenResult Found(ITftpFile file, string servedName) =>
        new(file, servedName, TftpErrorCode.NotDefined, null, null);

    public static TftpOpenResult Refused(TftpErrorCode code, string clientMessage, string reason) =>
        new(null, null, code, clientMessage, reason);
}

public enum TftpTransferOutcome
{
    Completed,
    ClientAborted,
    TimedOut,
    Superseded,
    ServerStopped,
    Failed,
}

/// <summary>What happened in one transfer, as logged and as recorded on a client's boot trace.</summary>
public readonly record struct TftpTransferSummary(
    IPEndPoint Client,
    string RequestedName,
    string ServedName,
    TftpTransferOutcome Outcome,
    long BytesSent,
    long FileLength,
    TimeSpan Duration,
    int BlockSize,
    int WindowSize,
    long Retransmissions,
    string? Detail);
