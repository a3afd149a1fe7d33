using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;

namespace PxeKit.Cli.Commands;

/// <summary><c>pxekit serve</c>: configuration file, then flags on top, then the server until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    private static readonly Option<string?> ConfigOption = new("--config", "-c")
    {
        Description = $"Configuration file (default: ./{ConfigFile.DefaultFileName} when it exists).",
    };

    private static readonly Option<string?> RootOption = new("--root")
    {
        Description = "Directory served over TFTP and HTTP (default: ./boot, created if missing).",
    };

    private static readonly Option<string[]> ListenOption = new("--listen")
    {
        Description = "Local address to listen on; repeat for several (default: all interfaces).",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<int?> TftpPortOption = new("--tftp-port")
    {
        Description = "TFTP port (default 69; 0 disables TFTP).",
    };

    private static readonly Option<int?> HttpPortOption = new("--http-port")
    {
        Description = "HTTP port (default 8080; 0 disables HTTP).",
    };

    private static readonly Option<string?> DataDirOption = new("--data-dir")
    {
        Description = "Directory for leases, clients and boot traces (default: ./data).",
    };

    private static readonly Option<string?> LogLevelOption = new("--log-level")
    {
        Description = "trace, debug, information (default), warning or error.",
    };

    private static readonly Option<string?> DhcpOption = new("--dhcp")
    {
        Description = "off (default), proxy (beside the site's DHCP server) or full (PxeKit hands out addresses).",
    };

    private static readonly Option<string?> InterfaceOption = new("--interface")
    {
        Description = "Network interface DHCP serves (e.g. eth0); its IPv4 address is the server's.",
    };

    private static readonly Option<string?> DhcpRangeOption = new("--dhcp-range")
    {
        Description = "Address pool for --dhcp full, START-END on the interface's network (e.g. 192.0.2.100-192.0.2.199).",
    };

    public static Command Create()
    {
        var command = new Command("serve", "Start the boot server: TFTP and HTTP on the boot root (DHCP when enabled).")
        {
            ConfigOption, RootOption, ListenOption, TftpPortOption, HttpPortOption, DataDirOption, LogLevelOption,
            DhcpOption, InterfaceOption, DhcpRangeOption,
        };
        command.SetAction((parse, cancellation) => RunAsync(parse, cancellation));
        return command;
    }

    /// <summary>The flags that say which configuration to use (all but --log-level), for commands that read it the
    /// way serve does (`pxekit doctor`); <see cref="ResolveOptions"/> reads them from any command that has them.</summary>
    internal static Option[] ConfigurationOptions =>
        [ConfigOption, RootOption, ListenOption, TftpPortOption, HttpPortOption, DataDirOption, DhcpOption, InterfaceOption, DhcpRangeOption];

    /// <summary>Reads the configuration file and applies the flags; a mistake is a <see cref="ConfigurationException"/>.</summary>
    internal static PxeKitOptions ResolveOptions(ParseResult parse)
    {
        var configPath = parse.GetValue(ConfigOption);
        PxeKitOptions options;
        if (configPath is not null)
        {
            if (!File.Exists(configPath))
                throw new ConfigurationException($"configuration file {configPath} does not exist");
            options = ConfigFile.Load(configPath);
        }
        else if (File.Exists(ConfigFile.DefaultFileName))
        {
            options = ConfigFile.Load(ConfigFile.DefaultFileName);
        }
        else
        {
            options = new PxeKitOptions();
        }

        if (parse.GetValue(RootOption) is { } root)
            options.Root = root;
        if (parse.GetValue(DataDirOption) is { } dataDir)
            options.DataDirectory = dataDir;
        if (parse.GetValue(ListenOption) is { Length: > 0 } listen)
        {
            options.Listen = [.. listen.Select(text => IPAddress.TryParse(text, out var address)
                ? address
                : throw new ConfigurationException($"--listen {text}: not an IP address"))];
        }
        if (parse.GetValue(TftpPortOption) is { } tftpPort)
        {
            if (tftpPort is < 0 or > 65535)
                throw new ConfigurationException($"--tftp-port {tftpPort}: a port is 1 to 65535 (0 disables TFTP)");
            options.Tftp.Enabled = tftpPort != 0;
            options.Tftp.Port = tftpPort;
        }
        if (parse.GetValue(HttpPortOption) is { } httpPort)
        {
            if (httpPort is < 0 or > 65535)
                throw new ConfigurationException($"--http-port {httpPort}: a port is 1 to 65535 (0 disables HTTP)");
            options.Http.Enabled = httpPort != 0;
            options.Http.Port = httpPort;
        }
        if (parse.GetValue(LogLevelOption) is { } level)
        {
            options.LogLevel = level.ToLowerInvariant() switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "information" or "info" => LogLevel.Information,
                "warning" or "warn" => LogLevel.Warning,
                "error" => LogLevel.Error,
                _ => throw new ConfigurationException($"--log-level {level}: use trace, debug, information, warning or error"),
            };
        }
        if (parse.GetValue(DhcpOption) is { } dhcpMode)
        {
            options.Dhcp.Mode = ConfigFile.ParseMode(dhcpMode)
                ?? throw new ConfigurationException($"--dhcp {dhcpMode}: use off, proxy or full");
        }
        if (parse.GetValue(InterfaceOption) is { } nic)
            options.Dhcp.Interface = nic;
        if (parse.GetValue(DhcpRangeOption) is { } range)
        {
            options.Dhcp.Range = ConfigFile.ParseRange(range)
                ?? throw new ConfigurationException($"--dhcp-range {range}: use START-END with IPv4 addresses in order, such as 192.0.2.100-192.0.2.199");
        }
        if (options.Dhcp.Mode != PxeKit.Protocols.Dhcp.DhcpMode.Off && options.Dhcp.Interface is null
            && options.Dhcp.Server.ServerAddress.Equals(IPAddress.Any))
            throw new ConfigurationException("--dhcp needs --interface (or dhcp.interface in the configuration file)");
        if (options.Dhcp.Mode == PxeKit.Protocols.Dhcp.DhcpMode.Full && options.Dhcp.Range is null && options.Dhcp.Server.Subnets.All(s => s.RangeStart is null)
            && options.Dhcp.Server.Subnets.All(s => s.Reservations.Count == 0))
            throw new ConfigurationException("--dhcp full needs an address pool: --dhcp-range START-END or dhcp.subnets in the configuration file");
        if (options.Tftp.Server.Validate() is { } problem)
            throw new ConfigurationException("tftp: " + problem);
        return options;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellation)
    {
        PxeKitOptions options;
        try
        {
            options = ResolveOptions(parse);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync("pxekit: " + e.Message);
            return 2;
        }

        WebApplication app;
        ILogger logger;
        try
        {
            app = PxeKitHost.Build(options, reloadOptions: () => ResolveOptions(parse));
            logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PxeKit");
            BootRootSetup.Prepare(options, logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"pxekit: cannot prepare {options.Root} or {options.DataDirectory}: {e.Message}");
            return 1;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync(cancellation);
            }
            catch (ListenerStartException e)
            {
                await Console.Error.WriteLineAsync("pxekit: " + e.Message);
                return 1;
            }
            catch (IOException e)
            {
                // Kestrel: "Failed to bind to address http://0.0.0.0:8080: address already in use."
                await Console.Error.WriteLineAsync(
                    $"pxekit: cannot listen for HTTP: {e.Message.TrimEnd('.')} (stop the other server or use --http-port)");
                return 1;
            }

            PrintSummary(options, app);
            await app.WaitForShutdownAsync(cancellation);
        }
        return 0;
    }

    /// <summary>What is served and where, on standard output, once the listeners are up.</summary>
    private static void PrintSummary(PxeKitOptions options, WebApplication app)
    {
        var root = Path.GetFullPath(options.Root);
        var example = ExampleAddress(options);
        var lines = new List<string>
        {
            $"PxeKit {Program.Version} serving {root}" +
                (options.ConfigFile is null ? " (no configuration file: defaults)" : $" (configuration {options.ConfigFile})"),
        };
        if (options.Tftp.Enabled)
        {
            foreach (var endpoint in app.Services.GetRequiredService<ServerEndpoints>().Tftp)
                lines.Add($"  TFTP  udp {endpoint}   try: tftp {example} {endpoint.Port} -c get undionly.kpxe");
        }
        else
        {
            lines.Add("  TFTP  off");
        }
        if (options.Http.Enabled)
        {
            foreach (var address in PxeKitHost.HttpAddresses(app))
                lines.Add($"  HTTP  {address}   try: curl http://{example}:{address.Port}/{BootRootSetup.DefaultScriptName}");
        }
        else
        {
            lines.Add("  HTTP  off");
        }
        var dhcpEndpoints = app.Services.GetRequiredService<ServerEndpoints>().Dhcp;
        if (options.Dhcp.Mode == PxeKit.Protocols.Dhcp.DhcpMode.Off || dhcpEndpoints.Count == 0)
        {
            lines.Add("  DHCP  off: PxeKit hands out no addresses; point your DHCP server's next-server and filename here");
        }
        else
        {
            var server = app.Services.GetRequiredService<ServerEndpoints>().DhcpServerAddress;
            var what = options.Dhcp.Mode == PxeKit.Protocols.Dhcp.DhcpMode.Proxy
                ? "proxyDHCP: boot options for PXE clients, addresses from the site's DHCP server"
                : "full: " + string.Join(", ", options.Dhcp.Server.Subnets.Select(s => s.RangeStart is null ? s.ToString() : $"{s} pool {s.RangeStart}-{s.RangeEnd}"));
            lines.Add($"  DHCP  {options.Dhcp.Interface ?? "all interfaces"} as {server}, udp {string.Join(" and ", dhcpEndpoints.Select(e => e.Port))}: {what}");
            var port67 = app.Services.GetRequiredService<ServerEndpoints>().DhcpPort67;
            if (DhcpPortSharing.Describe(port67, options.Dhcp.Server.Port, options.Dhcp.Server.ProxyPort) is { } sharing)
                lines.Add($"        {sharing}");
        }
        if (options.Boot is { } boot)
        {
            lines.Add($"  BOOT  policy: {boot.Entries.Count} entries, {boot.Menus.Count} menus, {boot.Groups.Count} groups, {boot.Clients.Count} clients"
                + (boot.Default is null ? ", no default (unmatched clients are told so)" : $", default '{boot.Default}'")
                + (options.Dhcp.Boot.IpxeScript.Contains("://", StringComparison.Ordinal)
                    ? $"; dhcp.ipxe-script sends iPXE to {options.Dhcp.Boot.IpxeScript}, not to the policy's /boot.ipxe"
                    : $"; iPXE asks /{options.Dhcp.Boot.IpxeScript.TrimStart('/')}?mac=MAC"));
        }
        else
        {
            lines.Add($"  BOOT  no boot: section: the root's {BootRootSetup.DefaultScriptName} is served to every client as it is");
        }
        foreach (var bcd in options.Bcd)
            lines.Add($"  BCD   {bcd.Path}: generated ({bcd.Recipe}, {(bcd.Uefi ? "UEFI" : "BIOS")})");
        var present = BootRootSetup.IpxeBinaries.Where(name => File.Exists(Path.Combine(root, name))).ToList();
        lines.Add("  iPXE  " + (present.Count == 0 ? "no binaries in the root (install Debian's ipxe package)" : string.Join(", ", present)));
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Console.Out.Flush();
    }

    /// <summary>An address clients can reach, for the examples: the first listen address, or the first non-loopback
    /// IPv4 address of this machine when listening on all interfaces.</summary>
    private static string ExampleAddress(PxeKitOptions options)
    {
        var first = options.Listen[0];
        if (!first.Equals(IPAddress.Any) && !first.Equals(IPAddress.IPv6Any))
            return first.ToString();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork)
                    return unicast.Address.ToString();
            }
        }
        return "127.0.0.1";
    }
}
