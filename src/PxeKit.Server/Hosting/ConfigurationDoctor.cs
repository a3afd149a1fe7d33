using System.Net;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot.Diagnosis;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>What `pxekit doctor` looks at besides the configuration itself.</summary>
public sealed class DoctorSettings
{
    /// <summary>Try to bind the ports serve will listen on.</summary>
    public bool CheckPorts { get; init; } = true;

    /// <summary>The interface to look for other DHCP servers on; null takes dhcp.interface, and with neither there
    /// is no probe (it needs an interface and root).</summary>
    public string? Interface { get; init; }

    public TimeSpan DhcpWait { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// `pxekit doctor` for a configuration: the boot root and policy (<see cref="ConfigurationCheck"/>), then the ports
/// serve needs and the other DHCP servers on the segment, which need sockets and so live here. Logs nothing: the
/// findings are the output.
/// </summary>
public static partial class ConfigurationDoctor
{
    public static async Task<IReadOnlyList<Finding>> CheckAsync(PxeKitOptions options, DoctorSettings settings, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        BootConfiguration configuration;
        try
        {
            // The same generation serve builds, so names resolve exactly as TFTP and HTTP will resolve them; the
            // server address only fills templates, which doctor does not render.
            configuration = BootConfiguration.Create(options, serverAddress: IPAddress.Loopback);
        }
        catch (ConfigurationException e)
        {
            findings.Add(Finding.Error("configuration", e.Message, "correct pxekit.yaml"));
            return findings;
        }
        if (!Directory.Exists(options.Root))
        {
            findings.Add(Finding.Info("root", $"{Path.GetFullPath(options.Root)} does not exist yet; pxekit serve creates it (every file below is missing)",
                "create it and put the boot files in it, or point root: / --root at the right directory"));
        }
        findings.AddRange(ConfigurationCheck.Run(options, configuration.Files, InstallableFiles(options)));
        if (settings.CheckPorts)
            findings.AddRange(CheckPorts(options));
        findings.AddRange(await CheckOtherDhcpServersAsync(options, settings, cancellationToken));
        return findings;
    }

    /// <summary>What <see cref="BootRootSetup.Prepare"/> copies into the root at start: name to source.</summary>
    public static IReadOnlyDictionary<string, string> InstallableFiles(PxeKitOptions options)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.Ipxe.InstallBinaries)
        {
            foreach (var name in BootRootSetup.IpxeBinaries)
                files[name] = Path.Combine(options.Ipxe.SourceDirectory, name);
        }
        if (options.Boot is { } boot)
        {
            if (boot.Entries.Values.Any(e => e is PxeKit.Server.Boot.PxelinuxEntry))
            {
                foreach (var (name, source) in BootRootSetup.SyslinuxFiles)
                    files[name] = source;
            }
            foreach (var memdisk in boot.Entries.Values.OfType<PxeKit.Server.Boot.MemdiskEntry>())
            {
                if (!memdisk.Memdisk.Contains("..", StringComparison.Ordinal))
                    files[memdisk.Memdisk.Replace('\\', '/').TrimStart('/')] = BootRootSetup.MemdiskSource;
            }
        }
        return files;
    }

    /// <summary>Check 5: the ports serve binds, each bound here and released at once.</summary>
    public static IReadOnlyList<Finding> CheckPorts(PxeKitOptions options)
    {
        var findings = new List<Finding>();
        if (options.Tftp.Enabled)
        {
            foreach (var address in options.Listen)
            {
                findings.Add(CheckPort(ProtocolType.Udp, address, options.Tftp.Port, "TFTP",
                    "another TFTP server such as tftpd-hpa, atftpd or dnsmasq, or pxekit serve already running?", "tftp.port or --tftp-port"));
            }
        }
        if (options.Http.Enabled)
        {
            foreach (var address in options.Listen)
            {
                findings.Add(CheckPort(ProtocolType.Tcp, address, options.Http.Port, "HTTP",
                    "another web server such as nginx or apache2, or pxekit serve already running?", "http.port or --http-port"));
            }
        }
        if (options.Dhcp.Mode != DhcpMode.Off)
        {
            // DHCP binds the wildcard address (broadcasts reach no other socket), so that is what must be free.
            findings.Add(CheckDhcpPort(options.Dhcp));
            if (options.Dhcp.Server.ProxyPort != 0)
            {
                findings.Add(CheckPort(ProtocolType.Udp, IPAddress.Any, options.Dhcp.Server.ProxyPort, "proxyDHCP",
                    "another PXE boot server such as dnsmasq or WDS?", "dhcp.proxy-port (0 turns it off)"));
            }
        }
        return findings;
    }

    /// <summary>
    /// Port 67 as serve would take it: full mode must own it; proxy mode may share it with a DHCP server on this host
    /// (fine) or, where that server does not share, serve 4011 alone (clients then need option 60 from it).
    /// </summary>
    private static Finding CheckDhcpPort(DhcpOptions dhcp)
    {
        var port = dhcp.Server.Port;
        var subject = $"DHCP udp {port}";
        DhcpPort67 port67;
        try
        {
            port67 = DhcpPortSharing.Probe(dhcp.Mode, port, dhcp.Interface);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return Finding.Error(subject, $"udp {port} is in use by {DhcpPortSharing.FindHolder(port) ?? "another DHCP server such as isc-dhcp-server, kea or dnsmasq"}: full mode must own it, and two servers handing out addresses on one network is a fault",
                "stop the other server, or run PxeKit beside it with dhcp.mode: proxy");
        }
        catch (SocketException e)
        {
            return PortProblem(e.SocketErrorCode, subject, $"udp {port}", port, "another DHCP server such as isc-dhcp-server, kea or dnsmasq?", "dhcp.port")
                ?? Finding.Warning(subject, $"udp {port} cannot be bound: {e.Message}", "check dhcp.port and dhcp.interface");
        }
        return port67 switch
        {
            DhcpPort67.Owned => Finding.Ok(subject, $"udp {port} is free"),
            DhcpPort67.SharedForBroadcasts => Finding.Ok(subject, DhcpPortSharing.Describe(port67, port, dhcp.Server.ProxyPort)!),
            _ when dhcp.Server.ProxyPort == 0 => Finding.Error(subject, $"udp {port} is held by {DhcpPortSharing.FindHolder(port) ?? "another program"}, which does not share it, and dhcp.proxy-port is 0: proxy mode has no port to serve",
                "set dhcp.proxy-port back to 4011, or " + DhcpPortSharing.OptionSixtyHint),
            _ => Finding.Warning(subject, DhcpPortSharing.Describe(port67, port, dhcp.Server.ProxyPort)!, DhcpPortSharing.OptionSixtyHint),
        };
    }

    /// <summary>Binds <paramref name="port"/> without SO_REUSEADDR, so a port another program holds shows as in use.</summary>
    public static Finding CheckPort(ProtocolType protocol, IPAddress address, int port, string service, string whoMightHoldIt, string setting)
    {
        var name = protocol == ProtocolType.Udp ? "udp" : "tcp";
        var subject = $"{service} {name} {port}";
        var where = address.Equals(IPAddress.Any) ? "" : $" on {address}";
        using var socket = new Socket(address.AddressFamily, protocol == ProtocolType.Udp ? SocketType.Dgram : SocketType.Stream, protocol);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            if (protocol == ProtocolType.Tcp)
                socket.Listen(1);
        }
        catch (SocketException e)
        {
            return PortProblem(e.SocketErrorCode, subject, $"{name} {port}{where}", port, whoMightHoldIt, setting) ?? Finding.Warning(subject, $"{name} {port}{where} cannot be bound: {e.Message}", $"check {setting}");
        }
        return Finding.Ok(subject, $"{name} {port}{where} is free");
    }

    /// <summary>The finding for a bind error, in words: in use, needs root, or an address this machine lacks.</summary>
    public static Finding? PortProblem(SocketError error, string subject, string what, int port, string whoMightHoldIt, string setting) => error switch
    {
        SocketError.AddressAlreadyInUse => Finding.Error(subject, $"{what} is in use ({whoMightHoldIt})",
            $"stop the other server (ss -lunp / ss -ltnp shows which) or move PxeKit with {setting}"),
        SocketError.AccessDenied when port < 1024 => Finding.Warning(subject, $"{what} needs privileges this user lacks",
            "run pxekit serve as root, or give it CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep, or AmbientCapabilities= in its systemd unit)"),
        SocketError.AddressNotAvailable => Finding.Error(subject, $"{what}: the address is not on this machine",
            "listen: / --listen must name an address of one of this machine's interfaces (ip -brief address)"),
        _ => null,
    };
}
