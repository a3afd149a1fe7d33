using System.Net;
using System.Net.Sockets;

namespace PxeKit.Server.Boot;

/// <summary>Addresses as the server keys and writes them.</summary>
public static class NetworkAddress
{
    /// <summary>IPv4-mapped IPv6 (what a dual-stack socket reports) as plain IPv4, so one client has one key and one
    /// spelling in scripts, traces and environment variables.</summary>
    public static IPAddress? Unmapped(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>The host part of a URL: IPv6 in brackets (RFC 3986 §3.2.2), IPv4 as it is.</summary>
    public static string UrlHost(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
