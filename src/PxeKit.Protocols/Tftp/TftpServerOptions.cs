namespace PxeKit.Protocols.Tftp;

/// <summary>Limits of the TFTP server, with the reason for each default.</summary>
public sealed class TftpServerOptions
{
    /// <summary>Concurrent transfers. A PXE storm of a few hundred clients fits; beyond it a new client gets an
    /// immediate ERROR instead of silence (hostile-inputs T20; dnsmasq's default is 50).</summary>
    public int MaxTransfers { get; set; } = 256;

    /// <summary>Upper bound for blksize before the path MTU clamp; 65464 is RFC 2348's maximum.</summary>
    public int MaxBlockSize { get; set; } = TftpLimits.MaxBlockSize;

    /// <summary>Upper bound for windowsize (RFC 7440). 64 blocks of 1468 bytes is ~92 KB in flight per
    /// transfer: far past the point of diminishing returns on a LAN, small enough for switch buffers.</summary>
    public int MaxWindowSize { get; set; } = 64;

    /// <summary>First retransmission time-out when the client names none (RFC 2349). One second is what
    /// tftp-hpa and dnsmasq use; it doubles on each retry.</summary>
    public TimeSpan RetransmitTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest back-off time-out between retries.</summary>
    public TimeSpan MaxRetransmitTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Retransmissions before a client that stopped answering is given up (1+2+4+8+8 s = 23 s).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Retransmissions of the first packet before the client has answered at all: a spoofed RRQ gets
    /// at most 1 + 2 packets, not 1 + 5 (reflection, hostile-inputs T19: tftp-hpa sends 5 × 516 B).</summary>
    public int MaxRetriesBeforeFirstAck { get; set; } = 2;

    /// <summary>netascii files are converted in memory (exact CR/LF handling across blocks, T23); larger files
    /// must use octet mode.</summary>
    public int MaxNetAsciiBytes { get; set; } = 16 << 20;

    /// <summary>Returns the first problem with these values, or null.</summary>
    public string? Validate()
    {
        if (MaxTransfers is < 1 or > 65536)
            return $"max-transfers must be 1 to 65536, not {MaxTransfers}";
        if (MaxBlockSize is < 512 or > TftpLimits.MaxBlockSize)
            return $"max-block-size must be 512 to {TftpLimits.MaxBlockSize}, not {MaxBlockSize}";
        if (MaxWindowSize is < 1 or > TftpLimits.MaxWindowSize)
            return $"max-window-size must be 1 to {TftpLimits.MaxWindowSize}, not {MaxWindowSize}";
        if (RetransmitTimeout < TimeSpan.FromMilliseconds(50) || RetransmitTimeout > TimeSpan.FromSeconds(255))
            return "retransmit-timeout must be between 50 ms and 255 s";
        if (MaxRetries is < 0 or > 50)
            return $"max-retries must be 0 to 50, not {MaxRetries}";
        return null;
    }
}
