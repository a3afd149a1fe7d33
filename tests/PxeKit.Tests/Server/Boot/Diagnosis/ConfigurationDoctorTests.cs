using System.Net;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot.Diagnosis;
using PxeKit.Server.Hosting;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Boot.Diagnosis;

/// <summary>The checks that need sockets: ports serve binds, and what other DHCP servers' answers mean.</summary>
public sealed class ConfigurationDoctorTests
{
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [Fact]
    public void A_udp_port_another_program_holds_is_an_error_naming_likely_culprits()
    {
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        other.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)other.LocalEndPoint!).Port;
        var options = new PxeKitOptions { Listen = [IPAddress.Loopback], Http = { Enabled = false } };
        options.Tftp.Port = port;

        var finding = Assert.Single(ConfigurationDoctor.CheckPorts(options));
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Equal($"udp {port} on 127.0.0.1 is in use (another TFTP server such as tftpd-hpa, atftpd or dnsmasq, or pxekit serve already running?)", finding.Message);

        other.Close();
        Assert.Equal(FindingSeverity.Ok, Assert.Single(ConfigurationDoctor.CheckPorts(options)).Severity);
    }

    [Fact]
    public void A_tcp_port_a_listener_holds_is_an_error_and_a_free_one_is_ok()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        try
        {
            var held = ConfigurationDoctor.CheckPort(ProtocolType.Tcp, IPAddress.Loopback, port, "HTTP", "a web server?", "http.port");
            Assert.Equal(FindingSeverity.Error, held.Severity);
            Assert.Contains($"tcp {port} on 127.0.0.1 is in use", held.Message, StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
        Assert.Equal(FindingSeverity.Ok, ConfigurationDoctor.CheckPort(ProtocolType.Tcp, IPAddress.Loopback, port, "HTTP", "a web server?", "http.port").Severity);
    }

    [Fact]
    public void Dhcp_ports_are_checked_only_when_dhcp_is_on()
    {
        var options = new PxeKitOptions { Listen = [IPAddress.Loopback] };
        options.Tftp.Port = FreeUdpPort();
        options.Http.Enabled = false;
        Assert.DoesNotContain(ConfigurationDoctor.CheckPorts(options), f => f.Subject.StartsWith("DHCP", StringComparison.Ordinal));

        options.Dhcp.Mode = DhcpMode.Proxy;
        options.Dhcp.Server.Port = FreeUdpPort();
        options.Dhcp.Server.ProxyPort = FreeUdpPort();
        var subjects = ConfigurationDoctor.CheckPorts(options).Select(f => f.Subject).ToList();
        Assert.Contains($"DHCP udp {options.Dhcp.Server.Port}", subjects);
        Assert.Contains($"proxyDHCP udp {options.Dhcp.Server.ProxyPort}", subjects);
    }

    [Fact]
    public void Permission_denied_below_1024_is_a_warning_about_root_or_cap_net_bind_service()
    {
        var finding = ConfigurationDoctor.PortProblem(SocketError.AccessDenied, "TFTP udp 69", "udp 69", 69, "?", "tftp.port")!;
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Contains("CAP_NET_BIND_SERVICE", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("as root", finding.Fix, StringComparison.Ordinal);
    }

    private static DhcpServerAnswer Dhcp(string server, string offered) =>
        new(IPAddress.Parse(server), IPAddress.Parse(server), IPAddress.Parse(offered), IPAddress.Any, null, null);

    private static DhcpServerAnswer ProxyAnswer(string server) =>
        new(IPAddress.Parse(server), IPAddress.Parse(server), IPAddress.Any, IPAddress.Parse(server), "ipxe.efi", "PXEClient");

    [Fact]
    public void Another_server_handing_out_addresses_is_an_error_in_full_mode()
    {
        var finding = Assert.Single(ConfigurationDoctor.JudgeDhcpAnswers(DhcpMode.Full, "eth0", IPAddress.Parse("192.0.2.1"), [Dhcp("192.0.2.3", "192.0.2.150")]));
        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.Contains("another DHCP server hands out addresses on eth0: 192.0.2.3", finding.Message, StringComparison.Ordinal);
        Assert.Contains("dhcp.mode: proxy", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void In_proxy_mode_the_site_server_is_named_and_ok()
    {
        var findings = ConfigurationDoctor.JudgeDhcpAnswers(DhcpMode.Proxy, "eth0", IPAddress.Any, [Dhcp("192.0.2.3", "192.0.2.150")]);
        var finding = Assert.Single(findings);
        Assert.Equal(FindingSeverity.Ok, finding.Severity);
        Assert.Contains("addresses on eth0 come from 192.0.2.3", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_proxy_mode_no_address_server_is_a_warning_and_our_own_answer_is_left_out()
    {
        var findings = ConfigurationDoctor.JudgeDhcpAnswers(DhcpMode.Proxy, "eth0", IPAddress.Parse("192.0.2.1"), [ProxyAnswer("192.0.2.1")]);
        var finding = Assert.Single(findings);
        Assert.Equal(FindingSeverity.Warning, finding.Severity);
        Assert.Contains("no DHCP server answered on eth0", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_dhcp_servers_are_not_looked_for_without_an_interface_and_say_so()
    {
        var options = new PxeKitOptions { Root = Path.GetTempPath() };
        options.Dhcp.Mode = DhcpMode.Proxy;
        options.Dhcp.Server.ServerAddress = IPAddress.Loopback;
        var findings = await ConfigurationDoctor.CheckAsync(options, new DoctorSettings { CheckPorts = false }, CancellationToken.None);
        findings.Single(FindingSeverity.Info, "not looked for: no interface");
    }
}
