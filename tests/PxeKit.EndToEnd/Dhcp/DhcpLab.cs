using System.Text.RegularExpressions;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Dhcp;

/// <summary>
/// The real <c>pxekit serve</c> as a DHCP server inside a network namespace (bridge br0, 192.0.2.1/24), with client
/// hosts attached as peers. Needs root: a test run without it fails with the namespace's own message.
/// </summary>
internal sealed partial class DhcpLab : IAsyncDisposable
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private readonly string[] _serveArguments;
    private int _peers;

    private DhcpLab(NetworkNamespace ns, string directory, string[] serveArguments)
    {
        Namespace = ns;
        Directory = directory;
        _serveArguments = serveArguments;
    }

    public NetworkNamespace Namespace { get; }
    public string Directory { get; }
    public string DataDirectory => Path.Combine(Directory, "data");
    public string Root => Path.Combine(Directory, "boot");
    public NamespacedProcess Server { get; private set; } = null!;

    /// <summary>Output of every pxekit process this lab started (restarts included).</summary>
    public string ServerOutput => _previousOutput + Server.Output;
    private string _previousOutput = "";

    public static Task<DhcpLab> StartAsync(params string[] dhcpArguments) => StartAsync(null, dhcpArguments);

    /// <summary><paramref name="prepare"/> runs after the namespace exists and before pxekit starts (e.g. the site's
    /// DHCP server, so that pxekit's start-up probe sees it).</summary>
    public static async Task<DhcpLab> StartAsync(Func<DhcpLab, Task>? prepare, params string[] dhcpArguments)
    {
        var ns = await NetworkNamespace.CreateAsync();
        var directory = System.IO.Directory.CreateTempSubdirectory("pxekit-dhcp-e2e-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "boot"));
        await File.WriteAllTextAsync(Path.Combine(directory, "pxekit.yaml"), "");
        var lab = new DhcpLab(ns, directory,
        [
            Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "serve", "--config", Path.Combine(directory, "pxekit.yaml"),
            "--root", Path.Combine(directory, "boot"), "--data-dir", Path.Combine(directory, "data"),
            "--interface", NetworkNamespace.BridgeInterface, "--log-level", "debug", .. dhcpArguments,
        ]);
        try
        {
            if (prepare is not null)
                await prepare(lab);
            await lab.StartServerAsync();
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
        return lab;
    }

    private async Task StartServerAsync()
    {
        Server = Namespace.StartProcess("dotnet", _serveArguments, Directory);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Server.Output.Contains("  DHCP  ", StringComparison.Ordinal))
        {
            if (Server.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException("pxekit did not start its DHCP server:\n" + Server.Output);
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL (no chance to flush anything) and start again on the same data directory.</summary>
    public async Task KillAndRestartAsync()
    {
        await Server.StopAsync();
        _previousOutput += Server.Output;
        await StartServerAsync();
    }

    /// <summary>A client host on the LAN. Without <paramref name="address"/> its interface has no IPv4 address
    /// (a DHCP client's starting point).</summary>
    public async Task<NetworkNamespace> AddClientAsync(string? address = null)
    {
        var n = Interlocked.Increment(ref _peers);
        var peer = await Namespace.AttachPeerAsync(address ?? $"192.0.2.{240 + n}/24");
        if (address is null)
            await MustAsync(peer, "ip", "addr", "flush", "dev", NetworkNamespace.PeerInterface);
        return peer;
    }

    public static async Task<ExternalTool.Result> MustAsync(NetworkNamespace ns, string program, params string[] arguments)
    {
        var result = await ns.RunAsync(program, arguments, Limit);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.Describe()}");
        return result;
    }

    /// <summary>The IPv4 address on the peer's eth0, or null.</summary>
    public static async Task<string?> AddressOfAsync(NetworkNamespace peer)
    {
        var result = await MustAsync(peer, "ip", "-4", "-o", "addr", "show", "dev", NetworkNamespace.PeerInterface);
        var match = InetRegex().Match(result.StandardOutput);
        return match.Success ? match.Groups[1].Value : null;
    }

    public static async Task<string> MacOfAsync(NetworkNamespace peer)
    {
        var result = await MustAsync(peer, "cat", $"/sys/class/net/{NetworkNamespace.PeerInterface}/address");
        return result.StandardOutput.Trim();
    }

    /// <summary>Waits until the server output contains <paramref name="fragment"/>.</summary>
    public async Task<bool> WaitForServerAsync(string fragment, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!ServerOutput.Contains(fragment, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(100);
        }
        return true;
    }

    public int CountServer(string fragment) => Regex.Count(ServerOutput, Regex.Escape(fragment));

    /// <summary>A dhclient-script that only sets the address: the real one would rewrite the host's
    /// /etc/resolv.conf, which network namespaces share.</summary>
    public string DhclientScript()
    {
        var path = Path.Combine(Directory, "dhclient-script.sh");
        File.WriteAllText(path, """
            #!/bin/sh
            case "$reason" in
              BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/${new_subnet_mask:-255.255.255.0}" dev "$interface" ;;
              RELEASE|EXPIRE|STOP) [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/${old_subnet_mask:-255.255.255.0}" dev "$interface" ;;
            esac
            exit 0
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>
    /// A udhcpc script (-s) that only sets the address. Debian's /etc/udhcpc/default.script rewrites the host's
    /// /etc/resolv.conf, which network namespaces share: a test run with it left this machine without DNS (and its
    /// package mirror unreachable) for the rest of the session.
    /// </summary>
    public string UdhcpcScript()
    {
        var path = Path.Combine(Directory, "udhcpc-script.sh");
        File.WriteAllText(path, """
            #!/bin/sh
            case "$1" in
              deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
              bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/${subnet:-255.255.255.0}" dev "$interface" ;;
            esac
            exit 0
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>dnsmasq as the site's plain DHCP server on a peer host 192.0.2.3, pool 192.0.2.160-199.</summary>
    public async Task<NamespacedProcess> StartSiteDhcpServerAsync() =>
        await StartDnsmasqAsync(await AddClientAsync("192.0.2.3/24"), NetworkNamespace.PeerInterface, ["--bind-interfaces"]);

    /// <summary>
    /// dnsmasq handing out addresses (pool 192.0.2.160-199) on this very host and interface, br0 at 192.0.2.1, where
    /// pxekit runs too: the same-host proxyDHCP topology. <paramref name="options"/> picks how it binds port 67
    /// (--bind-interfaces shares it; without, dnsmasq holds the wildcard address exclusively) and any dhcp-options.
    /// </summary>
    public Task<NamespacedProcess> StartSameHostDnsmasqAsync(params string[] options) =>
        StartDnsmasqAsync(Namespace, NetworkNamespace.BridgeInterface, options);

    private async Task<NamespacedProcess> StartDnsmasqAsync(NetworkNamespace host, string nic, string[] options)
    {
        var dnsmasq = host.StartProcess(ExternalTool.Require("dnsmasq", "dnsmasq"),
        [
            "--keep-in-foreground", "--log-dhcp", "--log-facility=-", "--port=0", "--conf-file=/dev/null", "--user=root",
            "--interface=" + nic, "--dhcp-range=192.0.2.160,192.0.2.199,1h", .. options,
            "--dhcp-leasefile=" + Path.Combine(Directory, "dnsmasq.leases"), "--pid-file=" + Path.Combine(Directory, "dnsmasq.pid"),
        ]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!dnsmasq.Output.Contains("DHCP, IP range", StringComparison.Ordinal))
        {
            if (dnsmasq.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException("dnsmasq did not start:\n" + dnsmasq.Output);
            await Task.Delay(100);
        }
        return dnsmasq;
    }

    /// <summary>Kea as the site's plain DHCP server on a peer host 192.0.2.3, pool 192.0.2.160-199.</summary>
    public async Task<NamespacedProcess> StartSiteKeaAsync() =>
        await StartKeaAsync(await AddClientAsync("192.0.2.3/24"), NetworkNamespace.PeerInterface);

    /// <summary>Kea handing out addresses on this very host and interface (br0, 192.0.2.1), beside pxekit.</summary>
    public Task<NamespacedProcess> StartSameHostKeaAsync() => StartKeaAsync(Namespace, NetworkNamespace.BridgeInterface);

    private async Task<NamespacedProcess> StartKeaAsync(NetworkNamespace host, string nic)
    {
        var peer = host;
        var config = Path.Combine(Directory, "kea-dhcp4.json");
        await File.WriteAllTextAsync(config, $$"""
            { "Dhcp4": {
                "interfaces-config": { "interfaces": [ "{{nic}}" ] },
                "lease-database": { "type": "memfile", "persist": true, "name": "{{Path.Combine(Directory, "kea-leases4.csv")}}", "lfc-interval": 0 },
                "valid-lifetime": 3600,
                "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.160 - 192.0.2.199" } ] } ],
                "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output_options": [ { "output": "stdout" } ] } ] } }
            """);
        // Kea puts its lock and pid files in /run/kea unless told otherwise; keep them in the lab.
        var kea = peer.StartProcess("env", [$"KEA_LOCKFILE_DIR={Directory}", $"KEA_PIDFILE_DIR={Directory}",
            ExternalTool.Require("kea-dhcp4", "kea-dhcp4-server"), "-c", config]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!kea.Output.Contains("DHCP4_STARTED", StringComparison.Ordinal))
        {
            if (kea.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException("kea-dhcp4 did not start:\n" + kea.Output);
            await Task.Delay(100);
        }
        return kea;
    }

    public async ValueTask DisposeAsync()
    {
        StopDaemonizedClients();
        await Namespace.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// dhclient -1 forks into the background once it has a lease, so the PID the test started is gone and the
    /// daemon would outlive the test (a second run for the same client even overwrites the first one's PID file).
    /// Every such process names this lab's unique directory on its command line; stop exactly those.
    /// </summary>
    private void StopDaemonizedClients()
    {
        foreach (var proc in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid))
                continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (!commandLine.Contains("dhclient", StringComparison.Ordinal) || !commandLine.Contains(Directory, StringComparison.Ordinal))
                    continue;
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // It ended on its own in the meantime.
            }
        }
    }

    [GeneratedRegex(@"inet (\d+\.\d+\.\d+\.\d+)/")]
    private static partial Regex InetRegex();
}
