using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Protocols.Tftp;

/// <summary>Transfer mode named in a request (RFC 1350 §5). "mail" is obsolete and refused.</summary>
public enum TftpTransferMode
{
    Octet,
    NetAscii,
}

/// <summary>
/// A parsed RRQ or WRQ: <c>opcode | filename 0 | mode 0 | (option 0 value 0)*</c> (RFC 1350 §5, RFC 2347 §2).
/// Option values are kept as the client sent them (parsed to numbers where the RFC defines numbers, null when
/// absent or unparseable); what we grant is decided by <see cref="TftpNegotiation"/>.
/// </summary>
public sealed class TftpRequest
{
    public required TftpOpcode Opcode { get; init; }

    /// <summary>The file name exactly as sent (decoded as UTF-8), before any path mapping.</summary>
    public required string FileName { get; init; }

    public required TftpTransferMode Mode { get; init; }

    /// <summary>RFC 2348 blksize as requested, or null.</summary>
    public long? BlockSize { get; init; }

    /// <summary>RFC 2349 tsize as sent (0 in an RRQ asks for the size), or null.</summary>
    public long? TransferSize { get; init; }

    /// <summary>RFC 2349 timeout in seconds as requested, or null.</summary>
    public long? TimeoutSeconds { get; init; }

    /// <summary>RFC 7440 windowsize as requested, or null.</summary>
    public long? WindowSize { get; init; }

    /// <summary>Longest file name we accept: hostile-inputs T6 (Tftpd32 CVE-2002-2226 overflowed on 600 bytes).</summary>
    public const int MaxFileNameBytes = 512;

    private const int MaxModeBytes = 16;
    private const int MaxOptionTextBytes = 64;

    /// <summary>
    /// Parses a request datagram. On failure <paramref name="error"/> says why, in words fit for the client's
    /// ERROR packet and for the log, and <paramref name="errorCode"/> is the code to answer with.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out TftpRequest? request, out TftpErrorCode errorCode, out string? error)
    {
        request = null;
        errorCode = TftpErrorCode.IllegalOperation;
        if (datagram.Length < 4)
        {
            error = $"request of {datagram.Length} bytes is too short";
            return false;
        }

        var opcode = (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(datagram);
        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            error = $"opcode {(ushort)opcode} is not a request";
            return false;
        }

        var rest = datagram[2..];
        var nameEnd = rest.IndexOf((byte)0);
        if (nameEnd < 0)
        {
            // atftpd CVE-2021-46671 read past an unterminated name (hostile-inputs T9).
            error = "file name is not NUL-terminated";
            return false;
        }
        var nameBytes = rest[..nameEnd];
        if (nameBytes.Length == 0)
        {
            errorCode = TftpErrorCode.FileNotFound;
            error = "empty file name";
            return false;
        }
        if (nameBytes.Length > MaxFileNameBytes)
        {
            error = $"file name of {nameBytes.Length} bytes is longer than {MaxFileNameBytes}";
            return false;
        }
        foreach (var b in nameBytes)
        {
            if (b < 0x20 || b == 0x7F)
            {
                // SolarWinds TFTP CVE-2010-2115 crashed on a name of 0x01 (T7); control bytes also garble logs (T8).
                errorCode = TftpErrorCode.FileNotFound;
                error = $"file name contains control byte 0x{b:x2}";
                return false;
            }
        }
        string fileName;
        try
        {
            fileName = StrictUtf8.GetString(nameBytes);
        }
        catch (DecoderFallbackException)
        {
            // Overlong encodings such as C0 AE ('.') are invalid UTF-8 and never become a path (T4).
            errorCode = TftpErrorCode.FileNotFound;
            error = "file name is not valid UTF-8";
            return false;
        }

        rest = rest[(nameEnd + 1)..];
        var modeEnd = rest.IndexOf((byte)0);
        if (modeEnd < 0)
        {
            error = "transfer mode is not NUL-terminated";
            return false;
        }
        if (modeEnd > MaxModeBytes)
        {
            error = $"transfer mode of {modeEnd} bytes is not a TFTP mode";
            return false;
        }
        TftpTransferMode mode;
        if (AsciiEquals(rest[..modeEnd], "octet"u8))
        {
            mode = TftpTransferMode.Octet;
        }
        else if (AsciiEquals(rest[..modeEnd], "netascii"u8))
        {
            mode = TftpTransferMode.NetAscii;
        }
        else
        {
            error = $"transfer mode '{Printable(rest[..modeEnd])}' is not supported (octet or netascii)";
            return false;
        }
        rest = rest[(modeEnd + 1)..];

        long? blockSize = null, transferSize = null, timeout = null, windowSize = null;
        var optionCount = 0;
        while (!rest.IsEmpty)
        {
            var optionEnd = rest.IndexOf((byte)0);
            // An empty name or bytes without a terminator end the options: HP PA-RISC ROMs pad the RRQ to 512 bytes
            // with zeros (dnsmasq 368ceff, T12), and a value without its NUL is never read past the datagram (T9).
            if (optionEnd <= 0)
                break;
            var name = rest[..optionEnd];
            rest = rest[(optionEnd + 1)..];
            var valueEnd = rest.IndexOf((byte)0);
            if (valueEnd < 0)
                break;
            var value = rest[..valueEnd];
            rest = rest[(valueEnd + 1)..];

            if (++optionCount > TftpLimits.MaxOptions)
            {
                errorCode = TftpErrorCode.OptionNegotiationFailed;
                error = $"more than {TftpLimits.MaxOptions} options";
                return false;
            }
            if (name.Length > MaxOptionTextBytes || value.Length > MaxOptionTextBytes)
                continue;

            // The first occurrence wins; a repeated option is not granted twice (tftp-hpa OACKs a duplicate twice, T10).
            if (AsciiEquals(name, "blksize"u8))
                blockSize ??= ParseNumber(value);
            else if (AsciiEquals(name, "tsize"u8))
                transferSize ??= ParseNumber(value);
            else if (AsciiEquals(name, "timeout"u8))
                timeout ??= ParseNumber(value);
            else if (AsciiEquals(name, "windowsize"u8))
                windowSize ??= ParseNumber(value);
        }

        request = new TftpRequest
        {
            Opcode = opcode,
            FileName = fileName,
            Mode = mode,
            BlockSize = blockSize,
            TransferSize = transferSize,
            TimeoutSeconds = timeout,
            WindowSize = windowSize,
        };
        error = null;
        return true;
    }

    /// <summary>Same request again (a client that lost our first answer retransmits its RRQ, T21).</summary>
    public bool IsSameAs(TftpRequest other) =>
        Opcode == other.Opcode && FileName == other.FileName && Mode == other.Mode && BlockSize == other.BlockSize &&
        TransferSize == other.TransferSize && TimeoutSeconds == other.TimeoutSeconds && WindowSize == other.WindowSize;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A decimal of at most 18 digits (so it fits a long), else null: "abc", "-1" and 30-digit values
    /// are treated as not given (T10), never as a size to allocate.</summary>
    private static long? ParseNumber(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty || text.Length > 18)
            return text.Length > 18 && AllDigits(text) ? long.MaxValue : null;
        long value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return null;
            value = (value * 10) + (b - '0');
        }
        return value;
    }

    private static bool AllDigits(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
        }
        return true;
    }

    private static bool AsciiEquals(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase) =>
        Ascii.EqualsIgnoreCase(text, lowerCase);

    /// <summary>Client bytes made safe for a log line or an ERROR message (T8).</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
            builder.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        return builder.ToString();
    }
}
