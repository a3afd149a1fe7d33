using System.Globalization;
using System.Net;

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
        ? $"http://{NetworkAddress.UrlHost(ServerAddress)}"
        : string.Create(CultureInfo.InvariantCulture, $"http://{NetworkAddress.UrlHost(ServerAddress)}:{HttpPort}");

    public string TftpBase => TftpPort == 69
        ? $"tftp://{NetworkAddress.UrlHost(ServerAddress)}"
        : string.Create(CultureInfo.InvariantCulture, $"tftp://{NetworkAddress.UrlHost(ServerAddress)}:{TftpPort}");
}
