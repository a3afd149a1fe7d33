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
            var script = IsUrl(options.IpxeScript) ? options.IpxeScript : HttpUrl(request, options.IpxeScript, withMac: true);
            return script is null ? null : new DhcpBootChoice(script, options.NextServer, BcdPath(client.Architecture));
        }

        // An architecture we cannot read gets nothing rather than another architecture's binary (hostile-inputs D10).
        if (client.Architecture is not { } arch || !options.Files.TryGetValue(arch, out var file))
            return null;

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
        return withMac ? $"{url}?mac={request.HardwareAddress}" : url;
    }

    private static bool IsUrl(string file) =>
        file.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || file.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || file.StartsWith("tftp://", StringComparison.OrdinalIgnoreCase);
}
