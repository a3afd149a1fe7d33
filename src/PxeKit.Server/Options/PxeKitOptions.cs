using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Tftp;

namespace PxeKit.Server.Options;

/// <summary>Everything <c>pxekit serve</c> is configured with: <c>pxekit.yaml</c>, then command-line flags on top.
/// Every key is documented in the README's configuration reference.</summary>
public sealed class PxeKitOptions
{
    /// <summary>Directory served over TFTP and HTTP (created if missing).</summary>
    public string Root { get; set; } = "boot";

    /// <summary>Directory for state: leases, clients, boot traces (created if missing).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Local addresses to listen on; the wildcard by default so every interface is served.</summary>
    public List<IPAddress> Listen { get; set; } = [IPAddress.Any];

    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    public TftpOptions Tftp { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    public IpxeOptions Ipxe { get; set; } = new();

    public DhcpOptions Dhcp { get; set; } = new();

    public TraceOptions Traces { get; set; } = new();

    /// <summary>BCD stores built from recipes and served from memory.</summary>
    public List<GeneratedBcdOptions> Bcd { get; set; } = [];

    /// <summary>Entries, menus, groups and clients (<c>boot:</c>); null serves the root's own boot.ipxe.</summary>
    public PxeKit.Server.Boot.BootPolicyDefinition? Boot { get; set; }

    /// <summary>Programs run for HTTP requests instead of serving a file (`scripts:`).</summary>
    public List<ServerScriptOptions> Scripts { get; set; } = [];

    /// <summary>The file these options came from, or null for defaults and flags only.</summary>
    public string? ConfigFile { get; set; }
}

public sealed class TftpOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>RFC 1350's well-known port; what every PXE ROM asks.</summary>
    public int Port { get; set; } = 69;

    /// <summary>Serve <c>boot/bcd</c> for a request of <c>\Boot\BCD</c> when no exact match exists.</summary>
    public bool CaseInsensitive { get; set; } = true;

    public List<RemapOptions> Remap { get; set; } = [];

    public TftpServerOptions Server { get; set; } = new();
}

public sealed class RemapOptions
{
    public required string Match { get; init; }
    public required string Replace { get; init; }
    public int Line { get; init; }
}

public sealed class HttpOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>8080 rather than 80 so that PxeKit can run beside a web server; iPXE gets the port in its URL.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Kestrel's default is unlimited; an explicit cap keeps 10 000 idle sockets from exhausting file
    /// descriptors (hostile-inputs H5).</summary>
    public int MaxConnections { get; set; } = 1024;
}

public sealed class IpxeOptions
{
    /// <summary>Copy undionly.kpxe, ipxe.efi and snponly.efi into the root at start when they are missing.</summary>
    public bool InstallBinaries { get; set; } = true;

    /// <summary>Where Debian's <c>ipxe</c> package puts its binaries.</summary>
    public string SourceDirectory { get; set; } = "/usr/lib/ipxe";

    /// <summary>Write a default <c>boot.ipxe</c> into the root at start when there is none.</summary>
    public bool WriteDefaultScript { get; set; } = true;
}
