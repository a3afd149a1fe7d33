using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Hosting;

/// <summary>What a reload may change in place and what stays as started: settings bound to sockets, timers and
/// stores opened at start are named and keep their running values; the boot policy and path mapping pass through.</summary>
public class ConfigurationReloaderTests
{
    /// <summary>Two equal but separate option trees (a reload reads the file into new objects).</summary>
    private static PxeKitOptions Options() => new()
    {
        Listen = [IPAddress.Loopback],
        Dhcp = new DhcpOptions
        {
            Server = new DhcpServerOptions
            {
                Mode = DhcpMode.Off,
                Subnets = [new DhcpSubnet { Network = IPAddress.Parse("192.0.2.0"), PrefixLength = 24, Routers = [IPAddress.Parse("192.0.2.1")] }],
            },
        },
    };

    public static TheoryData<string, Action<PxeKitOptions>> StartBoundChanges => new()
    {
        { "listen", o => o.Listen = [IPAddress.Parse("127.0.0.2")] },
        { "data-dir", o => o.DataDirectory = "/var/lib/elsewhere" },
        { "log-level", o => o.LogLevel = LogLevel.Debug },
        { "tftp.enabled", o => o.Tftp.Enabled = false },
        { "tftp.port", o => o.Tftp.Port = 6969 },
        { "tftp.max-transfers", o => o.Tftp.Server.MaxTransfers = 3 },
        { "tftp.max-transfers", o => o.Tftp.Server.MaxBlockSize = 1024 },
        { "tftp.max-transfers", o => o.Tftp.Server.RetransmitTimeout = TimeSpan.FromSeconds(3) },
        { "http.enabled", o => o.Http.Enabled = false },
        { "http.port", o => o.Http.Port = 8081 },
        { "http.max-connections", o => o.Http.MaxConnections = 10 },
        { "dhcp.mode", o => o.Dhcp.Mode = DhcpMode.Proxy },
        { "dhcp.interface", o => o.Dhcp.Interface = "eth1" },
        { "dhcp.range", o => o.Dhcp.Range = (IPAddress.Parse("192.0.2.100"), IPAddress.Parse("192.0.2.150")) },
        { "dhcp.lease-time", o => o.Dhcp.DefaultLeaseTime = TimeSpan.FromHours(1) },
        { "dhcp.detect-other-servers", o => o.Dhcp.DetectOtherServers = false },
        { "dhcp.subnets", o => o.Dhcp.Server.Subnets.Add(new DhcpSubnet { Network = IPAddress.Parse("198.51.100.0"), PrefixLength = 24 }) },
        { "dhcp.subnets", o => o.Dhcp.Server.Subnets[0].Routers = [IPAddress.Parse("192.0.2.254")] },
        { "dhcp.subnets", o => o.Dhcp.Server.Subnets[0].Reservations["52:54:00:12:34:56"] = IPAddress.Parse("192.0.2.50") },
        { "dhcp.subnets", o => o.Dhcp.Server.ServerAddress = IPAddress.Parse("192.0.2.1") },
        { "dhcp.subnets", o => o.Dhcp.Server.ProxyPort = 0 },
        { "dhcp.subnets", o => o.Dhcp.Server.DeclineProbation = TimeSpan.FromMinutes(5) },
        { "scripts", o => o.Scripts = [new ServerScriptOptions { Extension = ".py", Program = "/usr/bin/python3" }] },
        { "traces", o => o.Traces.Retention = TimeSpan.FromDays(1) },
        { "traces", o => o.Traces.Enabled = false },
    };

    [Theory]
    [MemberData(nameof(StartBoundChanges))]
    public void A_start_bound_setting_changed_in_the_file_is_named_and_keeps_its_running_value(string key, Action<PxeKitOptions> change)
    {
        var running = Options();
        var next = Options();
        change(next);

        var changed = ConfigurationReloader.KeepRunningValues(running, next);

        Assert.StartsWith(key, Assert.Single(changed), StringComparison.Ordinal);
        // Restored: comparing again finds nothing left that differs from the running values.
        Assert.Empty(ConfigurationReloader.KeepRunningValues(running, next));
    }

    [Fact]
    public void The_boot_policy_path_mapping_root_and_dhcp_boot_files_pass_through_unreported()
    {
        var running = Options();
        var next = Options();
        var policy = new BootPolicyDefinition { Entries = { ["disk"] = new LocalEntry("disk", "Local disk") }, Default = "disk" };
        var remap = new RemapOptions { Match = "^a$", Replace = "b" };
        var bcd = new GeneratedBcdOptions { Path = "boot/bcd", Recipe = "winpe" };
        next.Boot = policy;
        next.Root = "/srv/other-root";
        next.Tftp.CaseInsensitive = false;
        next.Tftp.Remap = [remap];
        next.Bcd = [bcd];
        next.Dhcp.Boot.Files[ClientArchitecture.BiosX86] = "pxelinux.0";
        next.Dhcp.Boot.IpxeScript = "menu.ipxe";

        Assert.Empty(ConfigurationReloader.KeepRunningValues(running, next));

        Assert.Same(policy, next.Boot);
        Assert.Equal("/srv/other-root", next.Root);
        Assert.False(next.Tftp.CaseInsensitive);
        Assert.Same(remap, Assert.Single(next.Tftp.Remap));
        Assert.Same(bcd, Assert.Single(next.Bcd));
        Assert.Equal("pxelinux.0", next.Dhcp.Boot.Files[ClientArchitecture.BiosX86]);
        Assert.Equal("menu.ipxe", next.Dhcp.Boot.IpxeScript);
    }

    [Fact]
    public void A_dhcp_pool_completed_at_start_is_not_reported_as_changed_when_the_file_is_the_same()
    {
        // --dhcp full --dhcp-range with the subnet from dhcp.subnets: start-up put the range into the subnet.
        static PxeKitOptions Full()
        {
            var options = Options();
            options.Dhcp.Mode = DhcpMode.Full;
            options.Dhcp.Server.ServerAddress = IPAddress.Parse("192.0.2.1");
            options.Dhcp.Range = (IPAddress.Parse("192.0.2.100"), IPAddress.Parse("192.0.2.150"));
            return options;
        }
        var running = Full();
        DhcpNetwork.Resolve(running.Dhcp);
        var unchanged = Full();
        var moved = Full();
        moved.Dhcp.Range = (IPAddress.Parse("192.0.2.160"), IPAddress.Parse("192.0.2.170"));

        Assert.Empty(ConfigurationReloader.KeepRunningValues(running, unchanged));
        Assert.Equal(["dhcp.range", "dhcp.subnets"], ConfigurationReloader.KeepRunningValues(running, moved).Select(k => k.Split(',')[0]));
        Assert.Same(running.Dhcp.Server, moved.Dhcp.Server);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), Assert.Single(moved.Dhcp.Server.Subnets).RangeStart);
    }
}
