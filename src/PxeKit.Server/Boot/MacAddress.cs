namespace PxeKit.Server.Boot;

/// <summary>
/// MAC addresses as the trace and the boot policy key them: lower-case hex pairs joined by colons
/// ("52:54:00:12:34:56"), the form <c>DhcpPacket.HardwareAddressText</c> gives.
/// </summary>
public static class MacAddress
{
    /// <summary>chaddr holds at most 16 bytes (RFC 2131 §2).</summary>
    private const int MaxBytes = 16;

    /// <summary>
    /// Reads the spellings people and programs use: <c>52:54:00:12:34:56</c>, <c>52-54-00-12-34-56</c> (Windows),
    /// <c>525400123456</c>, <c>5254.0012.3456</c> (Cisco), any letter case. Six to sixteen bytes. Anything else
    /// (a query string a client made up included) gives false.
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<char> text, out string mac)
    {
        mac = "";
        text = text.Trim();
        if (text.IsEmpty || text.Length > MaxBytes * 3)
            return false;
        Span<byte> bytes = stackalloc byte[MaxBytes];
        var count = 0;
        var separator = text.Length > 2 ? text[2] : '\0';
        if (separator is ':' or '-')
        {
            // Pairs joined by one kind of separator; single digits ("52:54:0:12:34:56", as some tools print) too.
            foreach (var range in text.Split(separator))
            {
                var part = text[range];
                if (part.Length is < 1 or > 2 || count == MaxBytes || !TryHex(part, out bytes[count]))
                    return false;
                count++;
            }
        }
        else
        {
            var digits = text.Length > 4 && text[4] == '.' ? RemoveDots(text, stackalloc char[MaxBytes * 2]) : text;
            if (digits.IsEmpty || digits.Length % 2 != 0 || digits.Length > MaxBytes * 2)
                return false;
            for (var i = 0; i < digits.Length; i += 2)
            {
                if (!TryHex(digits.Slice(i, 2), out bytes[count]))
                    return false;
                count++;
            }
        }
        if (count < 6)
            return false;
        mac = Format(bytes[..count]);
        return true;
    }

    /// <summary>"52-54-00-12-34-56": Tiny PXE Server's <c>@mac</c>, iPXE's <c>${mac:hexhyp}</c>, Windows file names.</summary>
    public static string Hyphenated(string mac) => mac.Replace(':', '-');

    /// <summary>"525400123456".</summary>
    public static string Hex(string mac) => mac.Replace(":", "", StringComparison.Ordinal);

    /// <summary>"5254.0012.3456" without its dots; empty when the groups are not four digits each.</summary>
    private static ReadOnlySpan<char> RemoveDots(ReadOnlySpan<char> text, Span<char> buffer)
    {
        var n = 0;
        foreach (var range in text.Split('.'))
        {
            var group = text[range];
            if (group.Length != 4 || n + 4 > buffer.Length)
                return [];
            group.CopyTo(buffer[n..]);
            n += 4;
        }
        return buffer[..n];
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out byte value)
    {
        value = 0;
        foreach (var c in digits)
        {
            var nibble = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => -1,
            };
            if (nibble < 0)
                return false;
            value = (byte)(value << 4 | nibble);
        }
        return true;
    }

    private static string Format(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[MaxBytes * 3];
        var n = 0;
        foreach (var b in bytes)
        {
            if (n > 0)
                chars[n++] = ':';
            chars[n++] = "0123456789abcdef"[b >> 4];
            chars[n++] = "0123456789abcdef"[b & 0xF];
        }
        return new string(chars[..n]);
    }
}
