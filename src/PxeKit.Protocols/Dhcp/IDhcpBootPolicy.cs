using System.Net;

namespace PxeKit.Protocols.Dhcp;

/// <summary>A boot client's request as the DHCP server saw it, for the boot policy.</summary>
/// <param name="HardwareAddress">"52:54:00:12:34:56" (chaddr cut to hlen).</param>
/// <param name="Client">What the client says it is (architecture, PXE/HTTP client, iPXE).</param>
/// <param name="ServerAddress">Our address on the client's network: what URLs and next-server should name.</param>
public sealed record DhcpBootRequest(string HardwareAddress, PxeClientInfo Client, IPAddress ServerAddress);

/// <summary>What a boot client is told.</summary>
/// <param name="BootFile">A path on the TFTP server (next-server), or a full http:// URL.</param>
/// <param name="NextServer">TFTP server for <paramref name="BootFile"/>; null means this server.</param>
/// <param name="WindowsBcdPath">Option 252 (path of the BCD store bootmgr should open), or null.</param>
public sealed record DhcpBootChoice(string BootFile, IPAddress? NextServer = null, string? WindowsBcdPath = null);

/// <summary>
/// The one question the DHCP server asks about booting: which file does this client get? The DHCP server knows
/// nothing of architectures' binaries, iPXE scripts or Windows; it puts the answer into options 66/67, siaddr,
/// file and 252.
/// </summary>
public interface IDhcpBootPolicy
{
    /// <summary>The boot file for <paramref name="request"/>, or null when this client is not to be booted by us
    /// (then a proxyDHCP server stays silent and a full DHCP server hands out an address without boot options).</summary>
    DhcpBootChoice? Choose(DhcpBootRequest request);
}
