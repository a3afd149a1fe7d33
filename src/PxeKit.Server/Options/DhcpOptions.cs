using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Options;

/// <summary>The <c>dhcp:</c> block of pxekit.yaml. Off by default: a DHCP server that starts by surprise breaks
/// networks.</summary>
public sealed class DhcpOptions
{
    public DhcpMode Mode { get; set; } = DhcpMode.Off;

    /// <summary>The interface to serve (SO_BINDTODEVICE); its first IPv4 address is the server address unless
    /// <see cref="DhcpServerOptions.ServerAddress"/> is set.</summary>
    public string? Interface { get; set; }

    /// <summary>At start, send one PXE DISCOVER and log every other DHCP/proxyDHCP server that answers: a warning
    /// in full mode when another server hands out addresses, and in proxy mode which server does.</summary>
    public bool DetectOtherServers { get; set; } = true;

    public DhcpBootOptions Boot { get; set; } = new();

    /// <summary>A pool given as --dhcp-range (or dhcp.range): put into the subnet that contains it, or into a new
    /// subnet of the served interface's network.</summary>
    public (System.Net.IPAddress Start, System.Net.IPAddress End)? Range { get; set; }

    /// <summary>Lease time of a subnet created from <see cref="Range"/>.</summary>
    public TimeSpan DefaultLeaseTime { get; set; } = TimeSpan.FromHours(12);

    public DhcpServerOptions Server { get; set; } = new() { Mode = DhcpMode.Off };
}

/// <summary>Which boot file each client architecture gets (RFC 4578 §2.1 / IANA processor architecture types).</summary>
public sealed class DhcpBootOptions
{
    /// <summary>Boot file by architecture code. Defaults: iPXE for BIOS (undionly.kpxe chains through the ROM's
    /// UNDI driver, so it works on every NIC) and for x64 UEFI (ipxe.efi, with its own drivers; snponly.efi is the
    /// alternative for NICs iPXE has no driver for). Code 9 is EFI byte code in RFC 4578 but x64 firmware sends it
    /// (errata 4624), so it gets the x64 file. Code 16 is x64 UEFI HTTP Boot.</summary>
    public Dictionary<ushort, string> Files { get; set; } = new()
    {
        [ClientArchitecture.BiosX86] = "undionly.kpxe",
        [ClientArchitecture.EfiX64] = "ipxe.efi",
        [ClientArchitecture.EfiBc] = "ipxe.efi",
        [ClientArchitecture.EfiX64Http] = "ipxe.efi",
    };

    /// <summary>What iPXE gets instead of the iPXE binary again (no chain loop): a file in the root, served over
    /// HTTP with the client's MAC in the query, or a full URL.</summary>
    public string IpxeScript { get; set; } = "boot.ipxe";

    /// <summary>TFTP server named in siaddr and option 66 when it is not this one.</summary>
    public System.Net.IPAddress? NextServer { get; set; }

    /// <summary>Option 252 for Windows boot files: a path with {arch} replaced by the five-digit architecture code
    /// (Tiny PXE Server's <c>\Boot\00007\bcd</c> convention); null sends no option 252.</summary>
    public string? WindowsBcdPath { get; set; }

    /// <summary>The HTTP port that boot URLs name; set from http.port at start.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>HTTP is served by this process; without it iPXE and HTTP Boot clients get no answer.</summary>
    public bool HttpEnabled { get; set; } = true;

    /// <summary>Names accepted in pxekit.yaml for <c>dhcp.boot-files</c> keys, besides plain numbers.</summary>
    public static readonly Dictionary<string, ushort[]> ArchitectureNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bios"] = [ClientArchitecture.BiosX86],
        ["efi-ia32"] = [ClientArchitecture.EfiIa32],
        ["efi-x64"] = [ClientArchitecture.EfiX64, ClientArchitecture.EfiBc],
        ["efi-arm32"] = [ClientArchitecture.EfiArm32],
        ["efi-arm64"] = [ClientArchitecture.EfiArm64],
        ["http-ia32"] = [ClientArchitecture.EfiX86Http],
        ["http-x64"] = [ClientArchitecture.EfiX64Http],
        ["http-arm32"] = [ClientArchitecture.EfiArm32Http],
        ["http-arm64"] = [ClientArchitecture.EfiArm64Http],
    };
}
