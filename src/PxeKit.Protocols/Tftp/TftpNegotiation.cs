namespace PxeKit.Protocols.Tftp;

/// <summary>What the server granted for one transfer; only the flagged options appear in the OACK.</summary>
public readonly record struct TftpGrantedOptions(
    int BlockSize, bool BlockSizeGranted,
    long? TransferSize,
    int TimeoutSeconds, bool TimeoutGranted,
    int WindowSize, bool WindowSizeGranted)
{
    public bool AnyGranted => BlockSizeGranted || TransferSize is not null || TimeoutGranted || WindowSizeGranted;
}

/// <summary>Decides the options of a read transfer from the request, the server's limits and the path MTU.</summary>
public static class TftpNegotiation
{
    /// <param name="request">What the client asked for.</param>
    /// <param name="fileLength">Length to announce in tsize, or null when it is not known exactly (netascii).</param>
    /// <param name="maxBlockSize">Largest block the path carries unfragmented and the configuration allows.</param>
    /// <param name="maxWindowSize">Largest window the configuration allows.</param>
    /// <param name="defaultTimeoutSeconds">Our retransmission time-out when the client names none.</param>
    public static TftpGrantedOptions Negotiate(
        TftpRequest request, long? fileLength, int maxBlockSize, int maxWindowSize, int defaultTimeoutSeconds)
    {
        var blockSize = TftpLimits.DefaultBlockSize;
        var blockSizeGranted = false;
        if (request.BlockSize is { } askedBlock && askedBlock >= TftpLimits.MinBlockSize)
        {
            // RFC 2348 §2: the server may answer with a smaller size; a value above 65464 (or -1, huge) is clamped
            // rather than refused, as tftp-hpa and dnsmasq do (T10), and never above what the path MTU carries (T22).
            blockSize = (int)Math.Min(askedBlock, Math.Min(maxBlockSize, TftpLimits.MaxBlockSize));
            blockSizeGranted = true;
        }

        long? transferSize = null;
        if (request.TransferSize is not null && fileLength is { } length)
        {
            // RFC 2349 §5: in an RRQ the client sends 0 and the server answers the real size, whatever the client
            // wrote (tftp-hpa echoes the client's value, T25).
            transferSize = length;
        }

        var timeout = defaultTimeoutSeconds;
        var timeoutGranted = false;
        if (request.TimeoutSeconds is { } askedTimeout &&
            askedTimeout is >= TftpLimits.MinTimeoutSeconds and <= TftpLimits.MaxTimeoutSeconds)
        {
            // RFC 2349 §2: an out-of-range timeout is not acknowledged.
            timeout = (int)askedTimeout;
            timeoutGranted = true;
        }

        var window = 1;
        var windowGranted = false;
        if (request.WindowSize is { } askedWindow && askedWindow >= TftpLimits.MinWindowSize)
        {
            // RFC 7440 §4: the server may answer with a smaller window.
            window = (int)Math.Min(askedWindow, Math.Min(maxWindowSize, TftpLimits.MaxWindowSize));
            windowGranted = true;
        }

        return new TftpGrantedOptions(blockSize, blockSizeGranted, transferSize, timeout, timeoutGranted, window, windowGranted);
    }
}
