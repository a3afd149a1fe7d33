using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace PxeKit.Server.Boot;

/// <summary>
/// What the server knows about the client a script, menu or template is made for. <see cref="Mac"/>,
/// <see cref="Address"/> and <see cref="Platform"/> are parsed and formatted by the server; the text fields
/// (<see cref="ClientHostname"/>, <see cref="VendorClass"/>, <see cref="UserClass"/>) are the client's own words and
/// are escaped wherever they are written into a script.
/// </summary>
public sealed record ClientFacts
{
    /// <summary>"52:54:00:12:34:56".</summary>
    public required string Mac { get; init; }

    public IPAddress? Address { get; init; }

    /// <summary>Null when neither iPXE nor DHCP said (the policy then asks iPXE first).</summary>
    public ClientPlatform? Platform { get; init; }

    /// <summary>SMBIOS UUID, validated as 8-4-4-4-12 hex.</summary>
    public string? Uuid { get; init; }

    /// <summary>The name pxekit.yaml gives this machine (trusted).</summary>
    public string? ConfiguredName { get; init; }

    /// <summary>The name the client reported (option 12, iPXE <c>${hostname}</c>): untrusted.</summary>
    public string? ClientHostname { get; init; }

    public string? VendorClass { get; init; }

    public string? UserClass { get; init; }

    /// <summary>Our address as the client reached it: what URLs in scripts name.</summary>
    public required IPAddress ServerAddress { get; init; }

    public int HttpPort { get; init; } = 80;

    public int TftpPort { get; init; } = 69;

    public string HttpBase => HttpPort == 80
        ? $"http://{ServerAddress}"
        : string.Create(CultureInfo.InvariantCulture, $"http://{ServerAddress}:{HttpPort}");

    public string TftpBase => TftpPort == 69
        ? $"tftp://{ServerAddress}"
        : string.Create(CultureInfo.InvariantCulture, $"tftp://{ServerAddress}:{TftpPort}");
}

/// <summary>MAC addresses as clients and admins spell them.</summary>
public static partial class MacAddressText
{
    /// <summary>"52:54:00:12:34:56" from colons, hyphens, dots (5254.0012.3456), bare hex, any case; false for
    /// anything else (six bytes only: PXE clients are Ethernet).</summary>
    public static bool TryNormalize(string? text, out string mac)
    {
        mac = "";
        if (text is null || text.Length is < 12 or > 17)
            return false;
        Span<char> hex = stackalloc char[12];
        var n = 0;
        foreach (var c in text)
        {
            if (c is ':' or '-' or '.')
                continue;
            if (!char.IsAsciiHexDigit(c) || n == 12)
                return false;
            hex[n++] = char.ToLowerInvariant(c);
        }
        if (n != 12 || !SeparatorsAreRegular(text))
            return false;
        mac = string.Create(17, hex.ToString(), static (span, h) =>
        {
            for (var i = 0; i < 6; i++)
            {
                span[i * 3] = h[i * 2];
                span[(i * 3) + 1] = h[(i * 2) + 1];
                if (i < 5)
                    span[(i * 3) + 2] = ':';
            }
        });
        return true;
    }

    private static bool SeparatorsAreRegular(string text) =>
        text.Length == 12 || Grouped().IsMatch(text);

    public static string Hyphenated(string mac) => mac.Replace(':', '-');

    public static string Hex(string mac) => mac.Replace(":", "", StringComparison.Ordinal);

    [GeneratedRegex("^([0-9A-Fa-f]{2}([:-]|$)){6}$|^[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Grouped();
}
