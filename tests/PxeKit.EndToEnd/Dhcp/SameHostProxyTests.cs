using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Dhcp;

/// <summary>
/// pxekit as proxyDHCP on the very host (namespace, interface br0, address 192.0.2.1) where the site's DHCP server
/// hands out addresses: the home router / pfSense / WDS-beside-DHCP topology (issue 10). Real dnsmasq and Kea,
/// real dhclient and udhcpc.
/// </summary>
public sealed class SameHostProxyTests
{
    private const string PxeClientConfig = """
        option pxe-arch code 93 = unsigned integer 16;
        send vendor-class-identifier "PXEClient:Arch:00007:UNDI:003016";
        send pxe-arch 7;
        """;

    [Fact]
    public async Task Proxy_mode_on_the_host_of_dnsmasq_shares_port_67_boots_pxe_clients_and_leaves_dnsmasq_its_unicast()
    {
        NamespacedProcess? dnsmasq = null;
        await using var lab = await DhcpLab.StartAsync(async l => dnsmasq = await l.StartSameHostDnsmasqAsync("--bind-interfaces"), "--dhcp", "proxy");
        Assert.Contains("udp 67 is held by dnsmasq (pid ", lab.ServerOutput);
        Assert.Contains("proxy mode shares it for the broadcasts PXE clients send", lab.ServerOutput);
        Assert.Contains("udp 67 and 4011: proxyDHCP", lab.ServerOutput);

        // A PXE client gets its address from dnsmasq (server 192.0.2.1, pool .160-.199) and its boot file from pxekit.
        var pxe = await lab.AddClientAsync();
        var pxeMac = await DhcpLab.MacOfAsync(pxe);
        var result = await DhclientAsync(lab, pxe, PxeClientConfig, "pxe");
        Assert.Contains("DHCPACK of 192.0.2.1", result);
        Assert.Matches(@"^192\.0\.2\.1[6-9]\d$", await DhcpLab.AddressOfAsync(pxe));
        Assert.True(await lab.WaitForServerAsync($"DHCP proxy OFFER to {pxeMac} (PXEClient arch 7): ipxe.efi"), lab.ServerOutput);
        Assert.Contains($"DHCPACK(br0) 192.0.2.1", dnsmasq!.Output);

        // A plain client's broadcasts reach pxekit too (and are left alone); its unicast renewal goes to dnsmasq only.
        var plain = await lab.AddClientAsync();
        var plainMac = await DhcpLab.MacOfAsync(plain);
        var udhcpc = plain.StartProcess(ExternalTool.Require("udhcpc", "udhcpc"), ["-i", NetworkNamespace.PeerInterface, "-s", lab.UdhcpcScript(), "-f", "-t", "5", "-T", "2"]);
        await WaitForAsync(() => udhcpc.Output.Contains(" obtained from 192.0.2.1", StringComparison.Ordinal), udhcpc);
        Assert.True(await lab.WaitForServerAsync($"DHCP ignored Request from {plainMac}"), lab.ServerOutput);
        var ignoredBefore = lab.CountServer($"DHCP ignored Request from {plainMac}");
        var acksBefore = CountOf(dnsmasq.Output, $"DHCPACK(br0) ");
        await DhcpLab.MustAsync(plain, "kill", "-USR1", udhcpc.ProcessId.ToString(CultureInfo.InvariantCulture));
        await WaitForAsync(() => udhcpc.Output.Contains("sending renew", StringComparison.Ordinal)
            && CountOf(udhcpc.Output, " obtained from 192.0.2.1") == 2, udhcpc);
        await WaitForAsync(() => CountOf(dnsmasq.Output, "DHCPACK(br0) ") > acksBefore, dnsmasq);
        Assert.Equal(ignoredBefore, lab.CountServer($"DHCP ignored Request from {plainMac}"));
        Assert.DoesNotContain($"proxy OFFER to {plainMac}", lab.ServerOutput);
        Assert.DoesNotContain("DHCP NAK", lab.ServerOutput);
        // The start-up probe told dnsmasq's answer (same address as ours, but with an address in it) from our own.
        Assert.True(await lab.WaitForServerAsync("DHCP addresses on br0 come from 192.0.2.1: DHCP, offers 192.0.2.1", TimeSpan.FromSeconds(30)), lab.ServerOutput);
        Assert.DoesNotContain("no DHCP server answered", lab.ServerOutput);
        await udhcpc.DisposeAsync();
    }

    [Fact]
    public async Task Proxy_mode_on_the_host_of_kea_boots_pxe_clients_and_leaves_addresses_to_kea()
    {
        NamespacedProcess? kea = null;
        await using var lab = await DhcpLab.StartAsync(async l => kea = await l.StartSameHostKeaAsync(), "--dhcp", "proxy");
        // Kea (raw sockets) holds 192.0.2.1:67 as its fallback socket; pxekit binds beside it on the broadcast address.
        Assert.Contains("udp 67 is held by kea-dhcp4 (pid ", lab.ServerOutput);
        Assert.Contains("proxy mode shares it for the broadcasts PXE clients send", lab.ServerOutput);
        Assert.Contains("udp 67 and 4011: proxyDHCP", lab.ServerOutput);

        var pxe = await lab.AddClientAsync();
        var mac = await DhcpLab.MacOfAsync(pxe);
        var result = await DhclientAsync(lab, pxe, PxeClientConfig.Replace("00007", "00000", StringComparison.Ordinal).Replace("pxe-arch 7", "pxe-arch 0", StringComparison.Ordinal), "pxe");
        Assert.Contains("DHCPACK of 192.0.2.1", result);
        Assert.Contains("DHCP4_LEASE_ALLOC", kea!.Output);
        Assert.True(await lab.WaitForServerAsync($"DHCP proxy OFFER to {mac} (PXEClient arch 0): undionly.kpxe"), lab.ServerOutput);

        var plain = await lab.AddClientAsync();
        var plainResult = await DhcpLab.MustAsync(plain, ExternalTool.Require("udhcpc", "udhcpc"), "-i", NetworkNamespace.PeerInterface, "-s", lab.UdhcpcScript(), "-f", "-q", "-n", "-t", "5", "-T", "2");
        Assert.Contains("obtained from 192.0.2.1", plainResult.StandardError + plainResult.StandardOutput);
        Assert.DoesNotContain("DHCP NAK", lab.ServerOutput);
    }

    [Fact]
    public async Task Proxy_mode_beside_a_dnsmasq_that_holds_67_exclusively_serves_4011_and_says_what_clients_need()
    {
        // dnsmasq without bind-interfaces binds 0.0.0.0:67 without address reuse: nobody can share it.
        await using var lab = await DhcpLab.StartAsync(async l => await l.StartSameHostDnsmasqAsync(), "--dhcp", "proxy");
        var output = lab.ServerOutput;
        Assert.Contains("udp 67 is held by dnsmasq (pid ", output);
        Assert.Contains("which does not share it: proxy mode serves udp 4011 alone, and PXE clients find PxeKit only if that server's OFFER to them carries option 60 \"PXEClient\"", output);
        Assert.Contains("dhcp-option-force=tag:pxe,60,PXEClient", output);
        Assert.Contains("udp 4011: proxyDHCP", output);

        var doctor = await DhcpLab.MustAsync(lab.Namespace, "dotnet", Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "doctor", "dhcp",
            "--interface", NetworkNamespace.BridgeInterface, "--wait", "3");
        Assert.Contains("On this host, udp 67 is held by dnsmasq (pid ", doctor.StandardOutput);
        Assert.Contains("proxy mode serves udp 4011 alone", doctor.StandardOutput);
        Assert.Contains("add bind-interfaces", doctor.StandardOutput);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Full_mode_on_the_host_of_dnsmasq_refuses_to_start_and_names_it(bool bindInterfaces)
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => DhcpLab.StartAsync(
            async l => await l.StartSameHostDnsmasqAsync(bindInterfaces ? ["--bind-interfaces"] : []),
            "--dhcp", "full", "--dhcp-range", "192.0.2.100-192.0.2.150"));
        Assert.Contains("cannot listen for DHCP on udp 67/4011", e.Message);
        Assert.Contains("held by dnsmasq (pid ", e.Message);
        Assert.Contains("two servers handing out addresses on one network is a fault", e.Message);
    }

    private static async Task<string> DhclientAsync(DhcpLab lab, NetworkNamespace client, string config, string name)
    {
        var path = Path.Combine(lab.Directory, $"dhclient-{name}.conf");
        await File.WriteAllTextAsync(path, config);
        var result = await DhcpLab.MustAsync(client, ExternalTool.Require("dhclient", "isc-dhcp-client"), "-1", "-v", "-cf", path,
            "-sf", lab.DhclientScript(), "-lf", Path.Combine(lab.Directory, $"{name}.leases"), "-pf", Path.Combine(lab.Directory, $"{name}.pid"),
            NetworkNamespace.PeerInterface);
        return result.StandardError + result.StandardOutput;
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
