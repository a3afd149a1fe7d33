namespace PxeKit.Protocols.Tftp;

/// <summary>
/// A file converted to netascii (RFC 764 as used by RFC 1350): LF becomes CR LF, a lone CR becomes CR NUL.
/// The conversion is done once, in memory, so that retransmitted blocks and CR/LF pairs that straddle a block
/// boundary are exact (dnsmasq once truncated netascii files, hostile-inputs T23). Only small files qualify;
/// boot images use octet.
/// </summary>
internal sealed class NetAsciiFile : ITftpFile
{
    private readonly byte[] _converted;

    private NetAsciiFile(byte[] converted) => _converted = converted;

    public long Length => _converted.Length;

    public int Read(long offset, Span<byte> destination)
    {
        if (offset >= _converted.Length)
            return 0;
        var count = (int)Math.Min(destination.Length, _converted.Length - offset);
        _converted.AsSpan((int)offset, count).CopyTo(destination);
        return count;
    }

    public void Dispose()
    {
    }

    /// <summary>Converts <paramref name="source"/>, or returns null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static NetAsciiFile? TryConvert(ITftpFile source, int maxBytes)
    {
        if (source.Length > maxBytes)
            return null;
        var raw = new byte[source.Length];
        var read = 0;
        while (read < raw.Length)
        {
            var n = source.Read(read, raw.AsSpan(read));
            if (n <= 0)
                break;
            read += n;
        }
        return new NetAsciiFile(Convert(raw.AsSpan(0, read)));
    }

    internal static byte[] Convert(ReadOnlySpan<byte> raw)
    {
        var extra = 0;
        foreach (var b in raw)
        {
            if (b is (byte)'\n' or (byte)'\r')
                extra++;
        }
        var converted = new byte[raw.Length + extra];
        var o = 0;
        foreach (var b in raw)
        {
            if (b == (byte)'\n')
            {
                converted[o++] = (byte)'\r';
                converted[o++] = (byte)'\n';
            }
            else if (b == (byte)'\r')
            {
                converted[o++] = (byte)'\r';
                converted[o++] = 0;
            }
            else
            {
                converted[o++] = b;
            }
        }
        return converted;
    }
}
