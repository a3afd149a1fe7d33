using System.Net;
using Microsoft.Extensions.Logging;

namespace PxeKit.Protocols.Tftp;

/// <summary>TFTP log lines (event IDs 1000-1099). Client mistakes at Debug, refusals and finished transfers at
/// Information, our own faults at Warning or Error.</summary>
internal static partial class TftpLog
{
    [LoggerMessage(1000, LogLevel.Information, "TFTP listening on udp {EndPoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(1001, LogLevel.Information,
        "TFTP sent {ServedName} to {Client}: {Bytes} bytes in {Seconds:0.000} s ({MegabytesPerSecond:0.0} MB/s), blksize {BlockSize}, windowsize {WindowSize}, {Retransmissions} retransmissions")]
    public static partial void TransferCompleted(ILogger logger, string servedName, IPEndPoint client, long bytes,
        double seconds, double megabytesPerSecond, int blockSize, int windowSize, long retransmissions);

    [LoggerMessage(1002, LogLevel.Information,
        "TFTP transfer of {ServedName} to {Client} ended ({Outcome}) after {Bytes} of {Length} bytes: {Detail}")]
    public static partial void TransferEnded(ILogger logger, string servedName, IPEndPoint client,
        TftpTransferOutcome outcome, long bytes, long length, string? detail);

    [LoggerMessage(1003, LogLevel.Information, "TFTP refused RRQ from {Client}: {Reason}")]
    public static partial void Refused(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(1004, LogLevel.Debug, "TFTP dropped a {Length}-byte datagram from {Client}: {Reason}")]
    public static partial void Dropped(ILogger logger, IPEndPoint client, int length, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "TFTP refused RRQ from {Client} for '{Name}': {Active} transfers in progress, the configured maximum")]
    public static partial void Busy(ILogger logger, IPEndPoint client, string name, int active);

    [LoggerMessage(1006, LogLevel.Debug, "TFTP {Client} asked for '{Name}' again while its transfer is running; ignored (the transfer retransmits)")]
    public static partial void DuplicateRequest(ILogger logger, IPEndPoint client, string name);

    [LoggerMessage(1007, LogLevel.Debug, "TFTP {Client} started a new request for '{Name}'; its previous transfer is dropped")]
    public static partial void Superseded(ILogger logger, IPEndPoint client, string name);

    [LoggerMessage(1008, LogLevel.Debug, "TFTP start {Client} '{Requested}' -> {ServedName} ({Length} bytes, mode {Mode}, blksize {BlockSize}, windowsize {WindowSize}, tsize {TransferSize}) from port {Port}")]
    public static partial void TransferStarted(ILogger logger, IPEndPoint client, string requested, string servedName,
        long length, TftpTransferMode mode, int blockSize, int windowSize, long? transferSize, int port);

    [LoggerMessage(1009, LogLevel.Error, "TFTP receive loop on {EndPoint} failed; continuing")]
    public static partial void ReceiveFailed(ILogger logger, IPEndPoint endPoint, Exception exception);

    [LoggerMessage(1010, LogLevel.Error, "TFTP transfer to {Client} failed unexpectedly")]
    public static partial void TransferCrashed(ILogger logger, IPEndPoint client, Exception exception);
}
