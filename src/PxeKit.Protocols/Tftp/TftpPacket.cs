using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Protocols.Tftp;

/// <summary>
/// Writers and readers for the packets a read transfer exchanges (RFC 1350 §5, RFC 2347 §2). Writers return the
/// number of bytes written, computed from what was written (dnsmasq 2.77 leaked memory through a wrong ERROR
/// length, hostile-inputs T24).
/// </summary>
public static class TftpPacket
{
    /// <summary>Longest ERROR message we send; keeps every ERROR inside one 512-byte datagram.</summary>
    public const int MaxErrorMessageBytes = 200;

    /// <summary>Writes <c>03 | block</c>; the payload follows at offset 4.</summary>
    public static void WriteDataHeader(Span<byte> destination, ushort block)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Data);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], block);
    }

    public static int WriteAck(Span<byte> destination, ushort block)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Acknowledgement);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], block);
        return 4;
    }

    /// <summary>Writes <c>05 | code | message 0</c>; the message is cut to <see cref="MaxErrorMessageBytes"/> and to
    /// the destination, and non-ASCII characters become '?'.</summary>
    public static int WriteError(Span<byte> destination, TftpErrorCode code, string message)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Error);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)code);
        var room = Math.Min(MaxErrorMessageBytes, destination.Length - 5);
        var length = Math.Min(room, message.Length);
        for (var i = 0; i < length; i++)
        {
            var c = message[i];
            destination[4 + i] = c is >= ' ' and < (char)0x7F ? (byte)c : (byte)'?';
        }
        destination[4 + length] = 0;
        return 4 + length + 1;
    }

    /// <summary>Writes an OACK naming only the options granted (RFC 2347 §2: never one the client did not ask for).</summary>
    public static int WriteOptionAcknowledgement(Span<byte> destination, in TftpGrantedOptions granted)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.OptionAcknowledgement);
        var length = 2;
        if (granted.BlockSizeGranted)
            length += WriteOption(destination[length..], "blksize"u8, granted.BlockSize);
        if (granted.TransferSize is { } tsize)
            length += WriteOption(destination[length..], "tsize"u8, tsize);
        if (granted.TimeoutGranted)
            length += WriteOption(destination[length..], "timeout"u8, granted.TimeoutSeconds);
        if (granted.WindowSizeGranted)
            length += WriteOption(destination[length..], "windowsize"u8, granted.WindowSize);
        return length;
    }

    /// <summary>The longest OACK: four option names, four 19-digit values, eight NULs, the opcode.</summary>
    public const int MaxOptionAcknowledgementLength = 2 + (7 + 5 + 7 + 10) + (4 * 19) + 8;

    private static int WriteOption(Span<byte> destination, ReadOnlySpan<byte> name, long value)
    {
        name.CopyTo(destination);
        var length = name.Length;
        destination[length++] = 0;
        value.TryFormat(destination[length..], out var digits, default, System.Globalization.CultureInfo.InvariantCulture);
        length += digits;
        destination[length++] = 0;
        return length;
    }

    /// <summary>Reads the opcode of a datagram received on a transfer port, or null when it has fewer than 2 bytes.</summary>
    public static TftpOpcode? ReadOpcode(ReadOnlySpan<byte> datagram) =>
        datagram.Length < 2 ? null : (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(datagram);

    /// <summary>Reads the block number of an ACK; false when the datagram is not a 4-byte-or-longer ACK.</summary>
    public static bool TryReadAck(ReadOnlySpan<byte> datagram, out ushort block)
    {
        block = 0;
        if (datagram.Length < 4 || ReadOpcode(datagram) != TftpOpcode.Acknowledgement)
            return false;
        block = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        return true;
    }

    /// <summary>
    /// Describes a received ERROR for the log. A 2- or 3-byte ERROR has no code; the message is read only up to
    /// the datagram's end or its first NUL and cut to 100 printable characters (atftpd CVE-2019-11365 computed
    /// len-4 on a 2-byte ERROR, T13; control characters are log injection, T8).
    /// </summary>
    public static string DescribeError(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 4)
            return "malformed ERROR without a code";
        var code = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        var text = datagram[4..];
        var end = text.IndexOf((byte)0);
        if (end >= 0)
            text = text[..end];
        if (text.Length > 100)
            text = text[..100];
        var builder = new StringBuilder("code ").Append(code);
        if (!text.IsEmpty)
            builder.Append(" '").Append(TftpRequest.Printable(text)).Append('\'');
        return builder.ToString();
    }
}
