using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PxeKit.Server.Boot;

/// <summary>
/// <c>{{name}}</c> placeholders filled with a client's facts, in scripts, kernel command lines and template files.
/// Values the server formats itself (MAC, addresses, architecture) go in as they are; values that are the client's
/// own words (hostname, vendor and user class) are percent-encoded outside a small safe set, so that
/// <c>x ${shell}</c> or a newline in a DHCP hostname arrives as inert text (<c>x%20%24%7Bshell%7D</c>), never
/// as an iPXE command, a shell word or a new pxelinux line.
/// </summary>
public static partial class BootTemplate
{
    /// <summary>Every placeholder name, with what it expands to (for the README and config errors).</summary>
    public static readonly IReadOnlyDictionary<string, string> Names = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["mac"] = "52:54:00:12:34:56",
        ["mac-hyphen"] = "52-54-00-12-34-56 (Tiny PXE Server's @mac)",
        ["mac-hex"] = "525400123456",
        ["mac-pxelinux"] = "01-52-54-00-12-34-56 (pxelinux.cfg file name)",
        ["ip"] = "the client's IPv4 address",
        ["server"] = "this server's address as the client reached it",
        ["opt54"] = "same as server (Tiny PXE Server's @opt54)",
        ["http-url"] = "http://server:port",
        ["tftp-url"] = "tftp://server[:port]",
        ["arch"] = "bios, efi-ia32, efi-x64, efi-arm64",
        ["arch-code"] = "RFC 4578 code in five digits, 00007 (Tiny PXE Server's [arch] keys)",
        ["platform"] = "pcbios or efi (iPXE's ${platform})",
        ["buildarch"] = "i386, x86_64, arm64 (iPXE's ${buildarch})",
        ["uuid"] = "SMBIOS UUID",
        ["hostname"] = "the name pxekit.yaml gives the client, else the one it reported",
        ["vendor-class"] = "DHCP option 60",
        ["user-class"] = "DHCP option 77",
    };

    /// <summary>Names used in <paramref name="text"/> that are not placeholders (for validation at load).</summary>
    public static IEnumerable<string> UnknownNames(string text) =>
        Placeholder().Matches(text).Select(m => m.Groups[1].Value).Where(name => !Names.ContainsKey(name)).Distinct();

    public static bool HasPlaceholders(string text) => text.Contains("{{", StringComparison.Ordinal) && Placeholder().IsMatch(text);

    /// <summary>Fills every known placeholder; unknown ones are left as written (load-time validation reports them
    /// for configuration text; template files may legitimately contain braces).</summary>
    public static string Expand(string text, ClientFacts facts)
    {
        if (!text.Contains("{{", StringComparison.Ordinal))
            return text;
        return Placeholder().Replace(text, match => Value(match.Groups[1].Value, facts) ?? match.Value);
    }

    public static string? Value(string name, ClientFacts facts) => name switch
    {
        "mac" => facts.Mac,
        "mac-hyphen" => MacAddress.Hyphenated(facts.Mac),
        "mac-hex" => MacAddress.Hex(facts.Mac),
        "mac-pxelinux" => "01-" + MacAddress.Hyphenated(facts.Mac),
        "ip" => facts.Address?.ToString() ?? "",
        "server" or "opt54" => facts.ServerAddress.ToString(),
        "http-url" => facts.HttpBase,
        "tftp-url" => facts.TftpBase,
        "arch" => facts.Platform?.Name ?? "",
        "arch-code" => facts.Platform is { } p ? p.Architecture.ToString("D5", CultureInfo.InvariantCulture) : "",
        "platform" => facts.Platform?.Firmware ?? "",
        "buildarch" => facts.Platform?.BuildArch ?? "",
        "uuid" => facts.Uuid ?? "",
        "hostname" => facts.ConfiguredName ?? Inert(facts.ClientHostname ?? ""),
        "vendor-class" => Inert(facts.VendorClass ?? ""),
        "user-class" => Inert(facts.UserClass ?? ""),
        _ => null,
    };

    /// <summary>
    /// Client text made inert: letters, digits and <c>. _ - : / @ + , = ~</c> stay; every other byte of its UTF-8
    /// is written as %XX. No iPXE (<c>$ { } # | &amp; space</c>), shell or pxelinux syntax survives, and a URL that
    /// carries it stays a valid URL.
    /// </summary>
    public static string Inert(string text)
    {
        var safe = true;
        foreach (var c in text)
            safe &= IsSafe(c);
        if (safe)
            return text;
        var builder = new StringBuilder(text.Length * 3);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b < 0x80 && IsSafe((char)b))
                builder.Append((char)b);
            else
                builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }
        return builder.ToString();
    }

    private static bool IsSafe(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/' or '@' or '+' or ',' or '=' or '~';

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9-]+)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
