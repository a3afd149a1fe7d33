namespace PxeKit.Protocols.Tftp;

/// <summary>TFTP opcodes, RFC 1350 §5 and RFC 2347 §2 (OACK).</summary>
public enum TftpOpcode : ushort
{
    ReadRequest = 1,
    WriteRequest = 2,
    Data = 3,
    Acknowledgement = 4,
    Error = 5,
    OptionAcknowledgement = 6, // RFC 2347
}

/// <summary>TFTP error codes, RFC 1350 appendix and RFC 2347 §2 (code 8).</summary>
public enum TftpErrorCode : ushort
{
    NotDefined = 0,
    FileNotFound = 1,
    AccessViolation = 2,
    DiskFull = 3,
    IllegalOperation = 4,
    UnknownTransferId = 5,
    FileAlreadyExists = 6,
    NoSuchUser = 7,
    OptionNegotiationFailed = 8, // RFC 2347
}

/// <summary>Sizes and ranges fixed by the RFCs; policy limits live in <see cref="TftpServerOptions"/>.</summary>
public static class TftpLimits
{
    /// <summary>RFC 1350: DATA carries 512 bytes unless blksize is negotiated.</summary>
    public const int DefaultBlockSize = 512;

    /// <summary>RFC 2348 §2: blksize is 8 to 65464 octets.</summary>
    public const int MinBlockSize = 8;
    public const int MaxBlockSize = 65464;

    /// <summary>RFC 2349 §1: timeout is 1 to 255 seconds.</summary>
    public const int MinTimeoutSeconds = 1;
    public const int MaxTimeoutSeconds = 255;

    /// <summary>RFC 7440 §3: windowsize is 1 to 65535 blocks.</summary>
    public const int MinWindowSize = 1;
    public const int MaxWindowSize = 65535;

    /// <summary>Opcode and block number in front of every DATA payload (RFC 1350 §5).</summary>
    public const int DataHeaderLength = 4;

    /// <summary>IPv4 (20) + UDP (8) + TFTP DATA header (4): what the MTU must also carry.
    /// dnsmasq uses the same 32 (and 52 for IPv6) in src/tftp.c.</summary>
    public const int Ipv4Overhead = 32;
    public const int Ipv6Overhead = 52;

    /// <summary>The largest UDP payload we ever receive as a request. A classic RRQ fits 512 bytes; PXE ROMs that pad
    /// (T12) still do. Longer datagrams are truncated by the socket and then refused as malformed.</summary>
    public const int MaxRequestLength = 1024;

    /// <summary>Options we read from one request; more is refused (hostile-inputs T11: edk2's UINT8 counter wrapped).</summary>
    public const int MaxOptions = 16;
}
