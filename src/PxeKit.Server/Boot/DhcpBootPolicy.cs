using System.Globalization;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Options;

namespace PxeKit.Server.Boot;

/// <summary>
/// Boot file per client architecture, with the iPXE chain broken: firmware PXE gets the iPXE binary for its
/// architecture; iPXE itself (user class "iPXE" or option 175) gets the HTTP URL of its script, so it never
/// downloads itself again; UEFI HTTP Boot clients get an http:// URL.
/// </summary>
public sealed class DhcpBootPolicy(DhcpBootOptions options) : IDhcpBootPolicy
{
    public DhcpBootChoice? Choose(DhcpBootRequest request)
    {
        var client = request.Client;
        if (!client.IsBootClient)
            return null;

        if (client.IsIpxe)
        {
            var template = ExpandTemplates(options.IpxeScript, request, client.Architecture);
            var script = IsUrl(template) ? template : HttpUrl(request, template, withMac: true);
            return script is null ? null : new DhcpBootChoice(script, options.NextServer, BcdPath(client.Architecture));
        }

        // An architecture we cannot read gets nothing rather than another architecture's binary (hostile-inputs D10).
        if (client.Architecture is not { } arch || !options.Files.TryGetValue(arch, out var configured))
            return null;
        var file = ExpandTemplates(configured, request, arch);

        if (client.IsHttpClient || ClientArchitecture.IsHttp(arch))
        {
            var url = IsUrl(file) ? file : HttpUrl(request, file, withMac: false);
            return url is null ? null : new DhcpBootChoice(url, null, null);
        }
        return new DhcpBootChoice(file, options.NextServer, BcdPath(arch));
    }

    private string? BcdPath(ushort? arch) =>
        options.WindowsBcdPath is { } template && arch is { } code
            ? template.Replace("{arch}", code.ToString("D5", CultureInfo.InvariantCulture), StringComparison.Ordinal)
            : null;

    private string? HttpUrl(DhcpBootRequest request, string path, bool withMac)
    {
        if (!options.HttpEnabled)
            return null;
        // The MAC comes from chaddr and is formatted by us as hex and colons: nothing the client chose as text
        // reaches the URL or the script (hostile-inputs H8).
        var url = string.Create(CultureInfo.InvariantCulture, $"http://{request.ServerAddress}:{options.HttpPort}/{path.TrimStart('/')}");
        if (!withMac)
            return url;
        return $"{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}mac={request.HardwareAddress}";
    }

    /// <summary>
    /// Replaces <c>{{server}}</c> (alias <c>{{opt54}}</c>), <c>{{mac}}</c> (52:54:00:12:34:56), <c>{{mac-hyphen}}</c>
    /// (52-54-00-12-34-56), <c>{{mac-hex}}</c> (525400123456) and <c>{{arch-code}}</c> (00007) in a configured boot
    /// file or script name: what <c>pxekit import tinypxe</c> makes of Tiny PXE Server's <c>@opt54</c>, <c>@mac</c>
    /// and <c>@arch</c>. Every value is formatted here from our address, chaddr and option 93's number; nothing the
    /// client sent as text reaches the name (hostile-inputs H8). Other text, unknown <c>{{...}}</c> included, stays.
    /// </summary>
    internal static string ExpandTemplates(string configured, DhcpBootRequest request, ushort? arch)
    {
        if (!configured.Contains("{{", StringComparison.Ordinal))
            return configured;
        var mac = request.HardwareAddress;
        return configured
            .Replace("{{server}}", request.ServerAddress.ToString(), StringComparison.Ordinal)
            .Replace("{{opt54}}", request.ServerAddress.ToString(), StringComparison.Ordinal)
            .Replace("{{mac}}", mac, StringComparison.Ordinal)
            .Replace("{{mac-hyphen}}", mac.Replace(':', '-'), StringComparison.Ordinal)
            .Replace("{{mac-hex}}", mac.Replace(":", "", StringComparison.Ordinal), StringComparison.Ordinal)
            // Without option 93, 00000 (x86 BIOS): the ROMs that predate RFC 4578 are BIOS ones.
            .Replace("{{arch-code}}", (arch ?? 0).ToString("D5", CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static bool IsUrl(string file) =>
        file.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || file.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || file.StartsWith("tftp://", StringComparison.OrdinalIgnoreCase);
}
