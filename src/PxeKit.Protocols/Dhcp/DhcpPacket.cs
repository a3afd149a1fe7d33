using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace PxeKit.Protocols.Dhcp;

/// <summary>One option as it appeared on the wire (instances of the same code concatenated, RFC 3396).</summary>
public readonly record struct DhcpOption(byte Code, byte[] Value)
{
    public DhcpOption(DhcpOptionCode code, byte[] value) : this((byte)code, value)
    {
    }
}

/// <summary>
/// A BOOTP/DHCP message (RFC 2131 §2 and §3, RFC 2132): the fixed header, then options. The codec knows nothing of
/// PXE or leases. Parsing is lenient where real firmware is sloppy (a missing End option, padding after it) and
/// strict where a peer length could take us past the datagram (hostile-inputs D1-D4).
/// </summary>
public sealed class DhcpPacket
{
    /// <summary>BOOTP's minimum message (RFC 1542 §2.1): some old relays and ROMs drop shorter replies.</summary>
    public const int MinEncodedLength = 300;

    public DhcpOp Op { get; init; }
    public byte HardwareType { get; init; } = 1; // Ethernet (RFC 1700)
    public byte HardwareLength { get; init; } = 6;
    public byte Hops { get; init; }
    public uint TransactionId { get; init; }
    public ushort Seconds { get; init; }
    public ushort Flags { get; init; }
    public IPAddress ClientAddress { get; init; } = IPAddress.Any;
    public IPAddress YourAddress { get; init; } = IPAddress.Any;
    public IPAddress ServerAddress { get; init; } = IPAddress.Any;
    public IPAddress RelayAddress { get; init; } = IPAddress.Any;

    /// <summary>chaddr as sent: always 16 bytes; the first <see cref="HardwareLength"/> are the address.</summary>
    public byte[] ClientHardwareAddress { get; init; } = new byte[DhcpLimits.ChaddrLength];

    /// <summary>sname up to its first NUL, or "" (also when the field carries options, option 52).</summary>
    public string ServerName { get; init; } = "";

    /// <summary>file up to its first NUL, or "" (also when the field carries options, option 52).</summary>
    public string File { get; init; } = "";

    public List<DhcpOption> Options { get; init; } = [];

    /// <summary>The first option the parser set aside (bad length for its code), for the debug log; null when none.</summary>
    public string? Anomaly { get; init; }

    public bool IsBroadcast => (Flags & DhcpLimits.BroadcastFlag) != 0;

    /// <summary>The hardware address (chaddr cut to hlen).</summary>
    public ReadOnlySpan<byte> HardwareAddress => ClientHardwareAddress.AsSpan(0, Math.Min((int)HardwareLength, DhcpLimits.ChaddrLength));

    /// <summary>"52:54:00:12:34:56": the form the boot policy, leases and logs use.</summary>
    public string HardwareAddressText => FormatHardwareAddress(HardwareAddress);

    public static string FormatHardwareAddress(ReadOnlySpan<byte> address)
    {
        if (address.IsEmpty)
            return "";
        return string.Create(address.Length * 3 - 1, address.ToArray(), static (chars, bytes) =>
        {
            const string Hex = "0123456789abcdef";
            for (var i = 0; i < bytes.Length; i++)
            {
                if (i > 0)
                    chars[i * 3 - 1] = ':';
                chars[i * 3] = Hex[bytes[i] >> 4];
                chars[i * 3 + 1] = Hex[bytes[i] & 0xF];
            }
        });
    }

    public bool TryGetOption(DhcpOptionCode code, out byte[] value)
    {
        foreach (var option in Options)
        {
            if (option.Code == (byte)code)
            {
                value = option.Value;
                return true;
            }
        }
        value = [];
        return false;
    }

    public bool HasOption(DhcpOptionCode code) => TryGetOption(code, out _);

    public DhcpMessageType? MessageType =>
        TryGetOption(DhcpOptionCode.MessageType, out var v) && v.Length == 1 && v[0] is >= 1 and <= 8 ? (DhcpMessageType)v[0] : null;

    /// <summary>A four-byte address option, or null when absent (wrong lengths were set aside while parsing).</summary>
    public IPAddress? GetAddress(DhcpOptionCode code) =>
        TryGetOption(code, out var v) && v.Length == 4 ? new IPAddress(v) : null;

    public uint? GetUInt32(DhcpOptionCode code) =>
        TryGetOption(code, out var v) && v.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(v) : null;

    public ushort? GetUInt16(DhcpOptionCode code) =>
        TryGetOption(code, out var v) && v.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(v) : null;

    /// <summary>An option as ASCII text with control characters replaced, or null.</summary>
    public string? GetText(DhcpOptionCode code) => TryGetOption(code, out var v) ? DhcpText.Printable(v, 255) : null;

    /// <summary>
    /// The largest reply this client accepts: option 57 minus IP and UDP headers, clamped to [576, one Ethernet
    /// frame] (hostile-inputs D9: 0, 300 and 65535 are all seen; dnsmasq clamps the same way).
    /// </summary>
    public int MaxReplyLength
    {
        get
        {
            var announced = GetUInt16(DhcpOptionCode.MaxMessageSize) ?? DhcpLimits.MinMaxMessageSize;
            var clamped = Math.Clamp((int)announced, DhcpLimits.MinMaxMessageSize, DhcpLimits.MaxReplyLength + DhcpLimits.IpUdpOverhead);
            return clamped - DhcpLimits.IpUdpOverhead;
        }
    }

    /// <summary>Fixed value lengths per code; an option of another length is set aside rather than misread.
    /// 0 means "any length within the minimum".</summary>
    private static int ExpectedLength(byte code, out int minimum)
    {
        minimum = 1;
        switch ((DhcpOptionCode)code)
        {
            case DhcpOptionCode.SubnetMask:
            case DhcpOptionCode.RequestedIpAddress:
            case DhcpOptionCode.LeaseTime:
            case DhcpOptionCode.ServerIdentifier:
            case DhcpOptionCode.RenewalTime:
            case DhcpOptionCode.RebindingTime:
                return 4;
            case DhcpOptionCode.MessageType:
            case DhcpOptionCode.OptionOverload:
                return 1;
            case DhcpOptionCode.MaxMessageSize:
                return 2;
            case DhcpOptionCode.ClientIdentifier:
                minimum = 2; // type + at least one byte (RFC 2132 §9.14); D6
                return 0;
            case DhcpOptionCode.Router:
            case DhcpOptionCode.DomainNameServer:
            case DhcpOptionCode.NtpServers:
                minimum = 4;
                return 0;
            case DhcpOptionCode.RelayAgentInformation:
                minimum = 2; // one sub-option header (RFC 3046 §2.0)
                return 0;
            default:
                return 0;
        }
    }

    /// <summary>
    /// Parses a datagram. Fails (and says why, with numbers) when it is not DHCP or a length would run past the end;
    /// options whose value has the wrong length for their code are set aside (<see cref="Anomaly"/>), not fatal.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out DhcpPacket? packet, out string? error)
    {
        packet = null;
        if (datagram.Length < DhcpLimits.MinPacketLength)
        {
            error = $"datagram of {datagram.Length} bytes is shorter than the {DhcpLimits.MinPacketLength}-byte DHCP header";
            return false;
        }
        var cookie = BinaryPrimitives.ReadUInt32BigEndian(datagram[DhcpOffsets.MagicCookie..]);
        if (cookie != DhcpLimits.MagicCookie)
        {
            error = $"magic cookie 0x{cookie:x8} is not 0x63825363 (plain BOOTP is not served)";
            return false;
        }
        var op = datagram[DhcpOffsets.Op];
        if (op is not ((byte)DhcpOp.BootRequest or (byte)DhcpOp.BootReply))
        {
            error = $"op {op} is neither BOOTREQUEST nor BOOTREPLY";
            return false;
        }
        var hlen = datagram[DhcpOffsets.HardwareLength];
        if (hlen > DhcpLimits.ChaddrLength)
        {
            error = $"hlen {hlen} exceeds the {DhcpLimits.ChaddrLength}-byte chaddr field";
            return false;
        }

        var options = new List<DhcpOption>();
        string? anomaly = null;
        var optionArea = datagram[DhcpOffsets.Options..];
        byte overload = 0;
        // Regions in the order RFC 2131 §4.1 gives: options, then file, then sname. A loop over a fixed list, not
        // recursion: option 52 inside file or sname is ignored (hostile-inputs D4).
        for (var region = 0; region < 3; region++)
        {
            ReadOnlySpan<byte> area;
            string name;
            if (region == 0)
            {
                area = optionArea;
                name = "options";
            }
            else if (region == 1)
            {
                if ((overload & 1) == 0)
                    continue;
                area = datagram.Slice(DhcpOffsets.File, DhcpLimits.FileLength);
                name = "file";
            }
            else
            {
                if ((overload & 2) == 0)
                    continue;
                area = datagram.Slice(DhcpOffsets.ServerName, DhcpLimits.ServerNameLength);
                name = "sname";
            }

            var i = 0;
            while ((uint)i < (uint)area.Length)
            {
                var code = area[i];
                if (code == (byte)DhcpOptionCode.Pad)
                {
                    i++;
                    continue;
                }
                if (code == (byte)DhcpOptionCode.End)
                    break; // anything after End is padding (HP and some Intel ROMs pad to 576 bytes)
                if (i + 1 >= area.Length)
                {
                    error = $"option {code} at offset {i} of the {name} field has no length byte";
                    return false;
                }
                int length = area[i + 1];
                var remaining = area.Length - i - 2;
                if (length > remaining)
                {
                    error = $"option {code} claims {length} bytes, {remaining} remain in the {name} field";
                    return false;
                }
                var value = area.Slice(i + 2, length);
                i += 2 + length;

                var expected = ExpectedLength(code, out var minimum);
                if ((expected != 0 && length != expected) || (expected == 0 && length < minimum))
                {
                    anomaly ??= expected != 0
                        ? $"option {code} has {length} bytes, not {expected}; ignored"
                        : $"option {code} has {length} bytes, fewer than {minimum}; ignored";
                    continue;
                }
                if (code == (byte)DhcpOptionCode.OptionOverload)
                {
                    if (region == 0)
                        overload = (byte)(value[0] & 3);
                    else
                        anomaly ??= $"option 52 inside the {name} field; ignored";
                    continue;
                }
                Append(options, code, value, ref anomaly);
            }
        }

        var chaddr = datagram.Slice(DhcpOffsets.ClientHardwareAddress, DhcpLimits.ChaddrLength).ToArray();
        packet = new DhcpPacket
        {
            Op = (DhcpOp)op,
            HardwareType = datagram[DhcpOffsets.HardwareType],
            HardwareLength = hlen,
            Hops = datagram[DhcpOffsets.Hops],
            TransactionId = BinaryPrimitives.ReadUInt32BigEndian(datagram[DhcpOffsets.TransactionId..]),
            Seconds = BinaryPrimitives.ReadUInt16BigEndian(datagram[DhcpOffsets.Seconds..]),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(datagram[DhcpOffsets.Flags..]),
            ClientAddress = new IPAddress(datagram.Slice(DhcpOffsets.ClientAddress, 4)),
            YourAddress = new IPAddress(datagram.Slice(DhcpOffsets.YourAddress, 4)),
            ServerAddress = new IPAddress(datagram.Slice(DhcpOffsets.ServerAddress, 4)),
            RelayAddress = new IPAddress(datagram.Slice(DhcpOffsets.RelayAddress, 4)),
            ClientHardwareAddress = chaddr,
            ServerName = (overload & 2) != 0 ? "" : DhcpText.NulTerminated(datagram.Slice(DhcpOffsets.ServerName, DhcpLimits.ServerNameLength)),
            File = (overload & 1) != 0 ? "" : DhcpText.NulTerminated(datagram.Slice(DhcpOffsets.File, DhcpLimits.FileLength)),
            Options = options,
            Anomaly = anomaly,
        };
        error = null;
        return true;
    }

    /// <summary>RFC 3396: instances of one code are concatenated in order. Capped at 1 KiB per code so that a
    /// datagram of repeats cannot grow one value beyond what any option means.</summary>
    private static void Append(List<DhcpOption> options, byte code, ReadOnlySpan<byte> value, ref string? anomaly)
    {
        for (var k = 0; k < options.Count; k++)
        {
            if (options[k].Code != code)
                continue;
            var old = options[k].Value;
            if (old.Length + value.Length > 1024)
            {
                anomaly ??= $"option {code} repeated beyond 1024 bytes; extra ignored";
                return;
            }
            options[k] = new DhcpOption(code, [.. old, .. value]);
            return;
        }
        options.Add(new DhcpOption(code, value.ToArray()));
    }

    /// <summary>Header + cookie + each option as one or more 255-byte instances + End, padded to 300 bytes.</summary>
    public int GetEncodedLength()
    {
        var length = DhcpOffsets.Options; // 236-byte header + 4-byte cookie
        foreach (var option in Options)
            length += EncodedOptionLength(option);
        length += 1; // End
        return Math.Max(length, MinEncodedLength);
    }

    public static int EncodedOptionLength(DhcpOption option)
    {
        var instances = Math.Max(1, (option.Value.Length + 254) / 255);
        return instances * 2 + option.Value.Length;
    }

    /// <summary>Writes the message in field order and returns its length; <paramref name="destination"/> must hold
    /// <see cref="GetEncodedLength"/> bytes.</summary>
    public int WriteTo(Span<byte> destination)
    {
        var length = GetEncodedLength();
        if (destination.Length < length)
            throw new ArgumentException($"destination holds {destination.Length} bytes, the message needs {length}", nameof(destination));
        var d = destination[..length];
        d.Clear();
        d[DhcpOffsets.Op] = (byte)Op;
        d[DhcpOffsets.HardwareType] = HardwareType;
        d[DhcpOffsets.HardwareLength] = HardwareLength;
        d[DhcpOffsets.Hops] = Hops;
        BinaryPrimitives.WriteUInt32BigEndian(d[DhcpOffsets.TransactionId..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(d[DhcpOffsets.Seconds..], Seconds);
        BinaryPrimitives.WriteUInt16BigEndian(d[DhcpOffsets.Flags..], Flags);
        WriteAddress(d[DhcpOffsets.ClientAddress..], ClientAddress);
        WriteAddress(d[DhcpOffsets.YourAddress..], YourAddress);
        WriteAddress(d[DhcpOffsets.ServerAddress..], ServerAddress);
        WriteAddress(d[DhcpOffsets.RelayAddress..], RelayAddress);
        ClientHardwareAddress.AsSpan(0, Math.Min(ClientHardwareAddress.Length, DhcpLimits.ChaddrLength)).CopyTo(d[DhcpOffsets.ClientHardwareAddress..]);
        WriteText(d.Slice(DhcpOffsets.ServerName, DhcpLimits.ServerNameLength), ServerName);
        WriteText(d.Slice(DhcpOffsets.File, DhcpLimits.FileLength), File);
        BinaryPrimitives.WriteUInt32BigEndian(d[DhcpOffsets.MagicCookie..], DhcpLimits.MagicCookie);
        var at = DhcpOffsets.Options;
        foreach (var option in Options)
        {
            var value = option.Value.AsSpan();
            do
            {
                var chunk = Math.Min(value.Length, 255);
                d[at++] = option.Code;
                d[at++] = (byte)chunk;
                value[..chunk].CopyTo(d[at..]);
                at += chunk;
                value = value[chunk..];
            }
            while (!value.IsEmpty);
        }
        d[at] = (byte)DhcpOptionCode.End;
        return length;
    }

    private static void WriteAddress(Span<byte> destination, IPAddress address)
    {
        if (!address.TryWriteBytes(destination[..4], out _))
            throw new ArgumentException($"{address} is not an IPv4 address");
    }

    /// <summary>sname/file are NUL-terminated in a fixed field; a longer value is cut to keep the NUL.</summary>
    private static void WriteText(Span<byte> field, string text)
    {
        var n = Math.Min(Encoding.ASCII.GetByteCount(text), field.Length - 1);
        Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(text.Length, n)), field);
    }
}

/// <summary>Text from client bytes, made safe for logs, lease files and URLs.</summary>
public static class DhcpText
{
    /// <summary>Bytes up to the first NUL as ASCII, non-printables replaced by '?', cut to <paramref name="max"/>.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes, int max)
    {
        var end = bytes.IndexOf((byte)0);
        if (end >= 0)
            bytes = bytes[..end];
        if (bytes.Length > max)
            bytes = bytes[..max];
        return string.Create(bytes.Length, bytes.ToArray(), static (chars, b) =>
        {
            for (var i = 0; i < b.Length; i++)
                chars[i] = b[i] is >= 0x20 and < 0x7F ? (char)b[i] : '?';
        });
    }

    public static string NulTerminated(ReadOnlySpan<byte> field) => Printable(field, field.Length);

    /// <summary>
    /// A host name (option 12) reduced to letters, digits, '-' and '.', at most 63 characters; null when nothing is
    /// left (hostile-inputs D7: Kea CVE-2025-11232 crashed on a name that sanitised to empty — we drop it).
    /// </summary>
    public static string? SanitizeHostName(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[63];
        var n = 0;
        foreach (var b in bytes)
        {
            if (n == chars.Length)
                break;
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-')
                chars[n++] = (char)b;
            else if (b == (byte)'.' && n > 0 && chars[n - 1] != '.')
                chars[n++] = '.';
        }
        var name = new string(chars[..n]).Trim('.', '-');
        return name.Length == 0 ? null : name;
    }
}
