using System.Globalization;
using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Dhcp;

/// <summary>Debian's DHCP clients (busybox udhcpc, ISC dhclient, Kea's perfdhcp) and dnsmasq as the site's DHCP
/// server, against the real pxekit process in network namespaces.</summary>
public sealed class RealDhcpClientTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private const string Range = "192.0.2.100-192.0.2.150";

    [Fact]
    public async Task Udhcpc_gets_renews_and_releases_a_lease()
    {
        var udhcpc = ExternalTool.Require("udhcpc", "udhcpc");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", Range);
        var client = await lab.AddClientAsync();
        var mac = await DhcpLab.MacOfAsync(client);

        // Foreground, so SIGUSR1 (renew: unicast REQUEST with ciaddr) and SIGUSR2 (release) reach it.
        var process = client.StartProcess(udhcpc, ["-i", NetworkNamespace.PeerInterface, "-s", lab.UdhcpcScript(), "-f", "-t", "5", "-T", "2"]);
        await WaitForAsync(() => process.Output.Contains("lease of 192.0.2.100 obtained", StringComparison.Ordinal), process);
        Assert.Equal("192.0.2.100", await DhcpLab.AddressOfAsync(client));

        await DhcpLab.MustAsync(client, "kill", "-USR1", process.ProcessId.ToString(CultureInfo.InvariantCulture));
        await WaitForAsync(() => process.Output.Contains("sending renew", StringComparison.Ordinal)
            && CountOf(process.Output, "lease of 192.0.2.100 obtained") == 2, process);

        await DhcpLab.MustAsync(client, "kill", "-USR2", process.ProcessId.ToString(CultureInfo.InvariantCulture));
        await WaitForAsync(() => process.Output.Contains("entering released state", StringComparison.Ordinal), process);
        Assert.True(await lab.WaitForServerAsync($"DHCP RELEASE of 192.0.2.100 by {mac}"), lab.ServerOutput);
        Assert.Equal(2, lab.CountServer($"DHCP ACK 192.0.2.100 to {mac}"));
    }

    [Fact]
    public async Task Dhclient_gets_a_lease_reboots_into_it_and_releases_it()
    {
        var dhclient = ExternalTool.Require("dhclient", "isc-dhcp-client");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", Range);
        var client = await lab.AddClientAsync();
        var script = lab.DhclientScript();
        string[] common = ["-v", "-sf", script, "-lf", Path.Combine(lab.Directory, "dhclient.leases"), "-pf", Path.Combine(lab.Directory, "dhclient.pid")];

        var first = await DhcpLab.MustAsync(client, dhclient, ["-1", .. common, NetworkNamespace.PeerInterface]);
        Assert.Contains("DHCPACK of 192.0.2.100 from 192.0.2.1", first.StandardError + first.StandardOutput);
        Assert.Equal("192.0.2.100", await DhcpLab.AddressOfAsync(client));

        // A second start with the lease file: INIT-REBOOT (REQUEST without server id), no DISCOVER.
        var second = await DhcpLab.MustAsync(client, dhclient, ["-1", .. common, NetworkNamespace.PeerInterface]);
        var text = second.StandardError + second.StandardOutput;
        Assert.DoesNotContain("DHCPDISCOVER", text);
        Assert.Contains("DHCPACK of 192.0.2.100 from 192.0.2.1", text);

        var release = await DhcpLab.MustAsync(client, dhclient, ["-r", .. common, NetworkNamespace.PeerInterface]);
        Assert.Contains("DHCPRELEASE of 192.0.2.100", release.StandardError + release.StandardOutput);
        Assert.True(await lab.WaitForServerAsync("DHCP RELEASE of 192.0.2.100"), lab.ServerOutput);
    }

    [Fact]
    public async Task Leases_survive_sigkill_and_restart()
    {
        var dhclient = ExternalTool.Require("dhclient", "isc-dhcp-client");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", Range);
        var script = lab.DhclientScript();
        string[] Args(string name, params string[] extra) =>
            [.. extra, "-v", "-sf", script, "-lf", Path.Combine(lab.Directory, name + ".leases"), "-pf", Path.Combine(lab.Directory, name + ".pid"), NetworkNamespace.PeerInterface];

        var a = await lab.AddClientAsync();
        var b = await lab.AddClientAsync();
        await DhcpLab.MustAsync(a, dhclient, Args("a", "-1"));
        await DhcpLab.MustAsync(b, dhclient, Args("b", "-1"));
        var addressA = await DhcpLab.AddressOfAsync(a);
        var addressB = await DhcpLab.AddressOfAsync(b);
        Assert.NotEqual(addressA, addressB);

        await lab.KillAndRestartAsync();
        Assert.Contains("DHCP loaded 2 leases", lab.Server.Output);

        // A new client must not be given A's or B's address, and A and B get theirs back.
        var c = await lab.AddClientAsync();
        await DhcpLab.MustAsync(c, dhclient, Args("c", "-1"));
        var addressC = await DhcpLab.AddressOfAsync(c);
        Assert.NotEqual(addressA, addressC);
        Assert.NotEqual(addressB, addressC);
        var again = await DhcpLab.MustAsync(a, dhclient, Args("a", "-1"));
        Assert.Contains($"DHCPACK of {addressA}", again.StandardError + again.StandardOutput);
        await DhcpLab.MustAsync(b, "ip", "addr", "flush", "dev", NetworkNamespace.PeerInterface);
        File.Delete(Path.Combine(lab.Directory, "b.leases")); // B forgot everything: DISCOVER, and still gets its address
        await DhcpLab.MustAsync(b, dhclient, Args("b", "-1"));
        Assert.Equal(addressB, await DhcpLab.AddressOfAsync(b));
    }

    [Fact] // hostile-inputs D19
    public async Task D19_sigkill_during_a_dora_storm_loses_no_acked_lease()
    {
        var perfdhcp = ExternalTool.Require("perfdhcp", "kea-admin");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", "192.0.2.10-192.0.2.250");
        var client = await lab.AddClientAsync("192.0.2.2/24");
        var storm = client.StartProcess(perfdhcp, ["-4", "-l", NetworkNamespace.PeerInterface, "-r", "200", "-R", "200", "-p", "30"]);
        Assert.True(await lab.WaitForServerAsync("DHCP ACK 192.0.2.", TimeSpan.FromSeconds(30)), lab.ServerOutput + storm.Output);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await lab.KillAndRestartAsync(); // SIGKILL mid-storm: the ACK log line is written only after the commit
        await storm.StopAsync();

        // Every address the first process logged as ACKed (it logs after the commit, before sending) was stored.
        var before = lab.ServerOutput[..lab.ServerOutput.IndexOf("DHCP loaded", lab.ServerOutput.IndexOf("DHCP loaded", StringComparison.Ordinal) + 1, StringComparison.Ordinal)];
        var acked = System.Text.RegularExpressions.Regex.Matches(before, @"DHCP ACK (192\.0\.2\.\d+) to")
            .Select(m => m.Groups[1].Value).Distinct().Count();
        var loaded = System.Text.RegularExpressions.Regex.Match(lab.Server.Output, @"DHCP loaded (\d+) leases");
        Assert.True(loaded.Success, lab.Server.Output);
        log.WriteLine($"{acked} distinct addresses ACKed before SIGKILL, {loaded.Groups[1].Value} leases loaded after restart");
        Assert.True(acked > 10, $"only {acked} ACKs before the kill");
        Assert.True(int.Parse(loaded.Groups[1].Value, CultureInfo.InvariantCulture) >= acked,
            $"{acked} distinct addresses ACKed before SIGKILL, {loaded.Groups[1].Value} leases after restart");
    }

    [Theory]
    [InlineData(7, "ipxe.efi")]
    [InlineData(0, "undionly.kpxe")]
    public async Task Perfdhcp_pxe_clients_get_the_boot_file_of_their_architecture(int arch, string file)
    {
        var perfdhcp = ExternalTool.Require("perfdhcp", "kea-admin");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "full", "--dhcp-range", Range);
        // perfdhcp acts as a relay: it needs an address and gets the replies at giaddr:67.
        var client = await lab.AddClientAsync("192.0.2.2/24");
        var vendor = Convert.ToHexString(Encoding.ASCII.GetBytes($"PXEClient:Arch:{arch:D5}:UNDI:003016"));
        // A first short run warms the server up (a Debug build JITs its first DISCOVER past perfdhcp's 1 s drop time).
        await client.RunAsync(perfdhcp, ["-4", "-l", NetworkNamespace.PeerInterface, "-r", "2", "-n", "2", "-p", "5", "-o", $"60,{vendor}"], DhcpLab.Limit);
        var result = await client.RunAsync(perfdhcp,
            ["-4", "-l", NetworkNamespace.PeerInterface, "-r", "20", "-R", "40", "-n", "40", "-p", "10", "-W", "2000000",
            "-o", $"60,{vendor}", "-o", $"93,{arch:x4}"], DhcpLab.Limit);
        Assert.True(result.ExitCode == 0, $"{result.Describe()}\nOFFERs logged: {lab.CountServer("DHCP OFFER")}, ACKs: {lab.CountServer("DHCP ACK")}\n{lab.ServerOutput}");
        var output = result.StandardOutput;
        Assert.Contains("drops: 0\n", output);
        Assert.Equal(2, CountOf(output, "received packets: 40"));
        // Every OFFER and every ACK named the file of the architecture (the log line ends with ", boot FILE").
        Assert.True(lab.CountServer($", boot {file}") >= 80, lab.ServerOutput);
        var wrong = arch == 0 ? "ipxe.efi" : "undionly.kpxe";
        Assert.Equal(0, System.Text.RegularExpressions.Regex.Count(lab.ServerOutput, $"DHCP (OFFER|ACK) 192\\.0\\.2\\.\\d+ to 00:0c:.*, boot {System.Text.RegularExpressions.Regex.Escape(wrong)}"));
    }

    [Fact]
    public async Task Proxy_mode_beside_dnsmasq_boots_pxe_clients_and_leaves_addresses_to_dnsmasq()
    {
        var dnsmasq = ExternalTool.Require("dnsmasq", "dnsmasq");
        var udhcpc = ExternalTool.Require("udhcpc", "udhcpc");
        await using var lab = await DhcpLab.StartAsync("--dhcp", "proxy");
        var site = await lab.AddClientAsync("192.0.2.3/24");
        await using var siteServer = site.StartProcess(dnsmasq,
        [
            "--keep-in-foreground", "--log-dhcp", "--log-facility=-", "--port=0", "--conf-file=/dev/null",
            "--interface=" + NetworkNamespace.PeerInterface, "--bind-interfaces", "--dhcp-range=192.0.2.160,192.0.2.199,1h",
            "--dhcp-leasefile=" + Path.Combine(lab.Directory, "dnsmasq.leases"), "--pid-file=" + Path.Combine(lab.Directory, "dnsmasq.pid"), "--user=root",
        ]);

        // A PXE client (vendor class and option 93 as firmware sends them) gets its address from dnsmasq...
        var pxe = await lab.AddClientAsync();
        var pxeMac = await DhcpLab.MacOfAsync(pxe);
        // dhclient, not udhcpc: udhcpc takes the first OFFER even when it carries no address (a proxy OFFER), which
        // no PXE firmware does; dhclient, like firmware, waits for an OFFER with an address.
        var config = Path.Combine(lab.Directory, "dhclient-pxe.conf");
        await File.WriteAllTextAsync(config, """
            option pxe-arch code 93 = unsigned integer 16;
            send vendor-class-identifier "PXEClient:Arch:00007:UNDI:003016";
            send pxe-arch 7;
            """);
        var result = await DhcpLab.MustAsync(pxe, ExternalTool.Require("dhclient", "isc-dhcp-client"), "-1", "-v", "-cf", config,
            "-sf", lab.DhclientScript(), "-lf", Path.Combine(lab.Directory, "pxe.leases"), "-pf", Path.Combine(lab.Directory, "pxe.pid"),
            NetworkNamespace.PeerInterface);
        Assert.Contains("DHCPACK of 192.0.2.1", result.StandardError + result.StandardOutput);
        Assert.Contains("from 192.0.2.3", result.StandardError + result.StandardOutput);
        Assert.StartsWith("192.0.2.1", await DhcpLab.AddressOfAsync(pxe));
        // ...and pxekit answered its DISCOVER with the boot file and no address.
        Assert.True(await lab.WaitForServerAsync($"DHCP proxy OFFER to {pxeMac}"), lab.ServerOutput);
        Assert.Contains($"DHCP proxy OFFER to {pxeMac} (PXEClient arch 7): ipxe.efi", lab.ServerOutput);

        // A plain client gets nothing from pxekit (debug: why).
        var plain = await lab.AddClientAsync();
        var plainMac = await DhcpLab.MacOfAsync(plain);
        var plainResult = await DhcpLab.MustAsync(plain, udhcpc, "-i", NetworkNamespace.PeerInterface, "-s", lab.UdhcpcScript(), "-f", "-q", "-n", "-t", "5", "-T", "2");
        Assert.Contains("obtained from 192.0.2.3", plainResult.StandardError + plainResult.StandardOutput);
        Assert.True(await lab.WaitForServerAsync($"DHCP ignored Discover from {plainMac}: not a PXE or HTTP boot client"), lab.ServerOutput);
        Assert.DoesNotContain($"proxy OFFER to {plainMac}", lab.ServerOutput);
        Assert.DoesNotContain("DHCP NAK", lab.ServerOutput);
    }

    [Fact]
    public async Task Proxy_mode_beside_kea_boots_pxe_clients_and_leaves_addresses_to_kea()
    {
        NamespacedProcess? kea = null;
        await using var lab = await DhcpLab.StartAsync(async l => kea = await l.StartSiteKeaAsync(), "--dhcp", "proxy");
        var pxe = await lab.AddClientAsync();
        var mac = await DhcpLab.MacOfAsync(pxe);
        var config = Path.Combine(lab.Directory, "dhclient-pxe.conf");
        await File.WriteAllTextAsync(config, """
            option pxe-arch code 93 = unsigned integer 16;
            send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";
            send pxe-arch 0;
            """);
        var result = await DhcpLab.MustAsync(pxe, ExternalTool.Require("dhclient", "isc-dhcp-client"), "-1", "-v", "-cf", config,
            "-sf", lab.DhclientScript(), "-lf", Path.Combine(lab.Directory, "pxe.leases"), "-pf", Path.Combine(lab.Directory, "pxe.pid"),
            NetworkNamespace.PeerInterface);
        Assert.Contains("from 192.0.2.3", result.StandardError + result.StandardOutput);
        Assert.Contains("DHCP4_LEASE_ALLOC", kea!.Output);
        Assert.True(await lab.WaitForServerAsync($"DHCP proxy OFFER to {mac} (PXEClient arch 0): undionly.kpxe"), lab.ServerOutput);
        Assert.True(await lab.WaitForServerAsync("DHCP addresses on br0 come from 192.0.2.3", TimeSpan.FromSeconds(30)), lab.ServerOutput);
        Assert.DoesNotContain("DHCP NAK", lab.ServerOutput);
    }

    [Fact]
    public async Task Proxy_start_names_the_site_server_and_doctor_lists_both()
    {
        NamespacedProcess? site = null;
        await using var lab = await DhcpLab.StartAsync(async l => site = await l.StartSiteDhcpServerAsync(), "--dhcp", "proxy");
        Assert.True(await lab.WaitForServerAsync("DHCP addresses on br0 come from 192.0.2.3: DHCP, offers 192.0.2.1", TimeSpan.FromSeconds(30)), lab.ServerOutput);
        Assert.DoesNotContain("ANOTHER DHCP SERVER", lab.ServerOutput);

        var admin = await lab.AddClientAsync("192.0.2.4/24");
        var doctor = await DhcpLab.MustAsync(admin, "dotnet", Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "doctor", "dhcp",
            "--interface", NetworkNamespace.PeerInterface, "--wait", "6");
        var text = doctor.StandardOutput;
        Assert.Contains("192.0.2.3: DHCP, offers 192.0.2.1", text);
        Assert.Contains("192.0.2.1: proxyDHCP, next-server 192.0.2.1, boot file 'ipxe.efi'", text);
        Assert.Contains("Addresses come from 192.0.2.3", text);
    }

    [Fact]
    public async Task Full_mode_warns_loudly_when_another_server_hands_out_addresses()
    {
        await using var lab = await DhcpLab.StartAsync(async l => await l.StartSiteDhcpServerAsync(), "--dhcp", "full", "--dhcp-range", Range);
        Assert.True(await lab.WaitForServerAsync("DHCP ANOTHER DHCP SERVER ANSWERS on br0: 192.0.2.3: DHCP, offers 192.0.2.1", TimeSpan.FromSeconds(30)), lab.ServerOutput);
        Assert.Contains("warn", lab.ServerOutput.Split('\n').First(l => l.Contains("ANOTHER DHCP SERVER", StringComparison.Ordinal)));
    }

    private static int CountOf(string text, string fragment)
    {
        var count = 0;
        for (var at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static async Task WaitForAsync(Func<bool> condition, NamespacedProcess process)
    {
        var deadline = DateTime.UtcNow + DhcpLab.Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline && !process.HasExited, $"{process.Description}:\n{process.Output}");
            await Task.Delay(100);
        }
    }
}
