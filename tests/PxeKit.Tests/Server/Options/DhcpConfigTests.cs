using System.Net;
using PxeKit.Cli;
using PxeKit.Cli.Commands;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Options;

public class DhcpConfigTests
{
    [Fact]
    public void Dhcp_is_off_by_default()
    {
        Assert.Equal(DhcpMode.Off, ConfigFile.Parse("").Dhcp.Mode);
    }

    [Fact]
    public void Every_dhcp_key_is_read()
    {
        var options = ConfigFile.Parse("""
            dhcp:
              mode: full
              interface: eth1
              server-address: 192.0.2.1
              port: 1067
              proxy-port: 0
              range: 192.0.2.100-192.0.2.150
              lease-time: 2h
              authoritative: true
              ping-check: true
              decline-probation: 10m
              boot-files:
                bios: pxelinux.0
                efi-x64: snponly.efi
                efi-arm64: arm64.efi
                "19": http://192.0.2.9/arm64.efi
              ipxe-script: http://192.0.2.9/menu.ipxe
              next-server: 192.0.2.5
              windows-bcd-path: \Boot\{arch}\bcd
              subnets:
                - network: 198.51.100.0/24
                  range: 198.51.100.10-198.51.100.20
                  lease-time: 30m
                  routers: [198.51.100.1]
                  dns: [198.51.100.53, 198.51.100.54]
                  domain: lab.example
                  ntp: 198.51.100.123
                  reservations:
                    - {mac: 52-54-00-12-34-56, address: 198.51.100.5}
                  options:
                    - {code: 150, ip: 198.51.100.1}
                    - {code: 209, text: pxelinux.cfg/default}
                    - {code: 211, uint32: 300}
                    - {code: 224, hex: "01:02"}
            """).Dhcp;
        Assert.Equal(DhcpMode.Full, options.Mode);
        Assert.Equal("eth1", options.Interface);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), options.Server.ServerAddress);
        Assert.Equal(1067, options.Server.Port);
        Assert.Equal(0, options.Server.ProxyPort);
        Assert.Equal(IPAddress.Parse("192.0.2.150"), options.Range!.Value.End);
        Assert.Equal(TimeSpan.FromHours(2), options.DefaultLeaseTime);
        Assert.True(options.Server.Authoritative);
        Assert.True(options.Server.PingCheck);
        Assert.Equal(TimeSpan.FromMinutes(10), options.Server.DeclineProbation);
        Assert.Equal("pxelinux.0", options.Boot.Files[0]);
        Assert.Equal("snponly.efi", options.Boot.Files[7]);
        Assert.Equal("snponly.efi", options.Boot.Files[9]);
        Assert.Equal("arm64.efi", options.Boot.Files[11]);
        Assert.Equal("http://192.0.2.9/arm64.efi", options.Boot.Files[19]);
        Assert.Equal("http://192.0.2.9/menu.ipxe", options.Boot.IpxeScript);
        Assert.Equal(IPAddress.Parse("192.0.2.5"), options.Boot.NextServer);
        Assert.Equal(@"\Boot\{arch}\bcd", options.Boot.WindowsBcdPath);
        var subnet = Assert.Single(options.Server.Subnets);
        Assert.Equal(24, subnet.PrefixLength);
        Assert.Equal(IPAddress.Parse("198.51.100.10"), subnet.RangeStart);
        Assert.Equal(TimeSpan.FromMinutes(30), subnet.LeaseTime);
        Assert.Equal(2, subnet.DnsServers.Count);
        Assert.Equal("lab.example", subnet.DomainName);
        Assert.Single(subnet.NtpServers);
        Assert.Equal(IPAddress.Parse("198.51.100.5"), subnet.Reservations["52:54:00:12:34:56"]);
        Assert.Equal(4, subnet.CustomOptions.Count);
        Assert.Equal(new byte[] { 0, 0, 1, 44 }, subnet.CustomOptions[2].Value);
        Assert.Equal(new byte[] { 1, 2 }, subnet.CustomOptions[3].Value);
    }

    [Theory]
    [InlineData("dhcp:\n  mode: sometimes\n", "line 2: 'dhcp.mode' must be off, proxy or full")]
    [InlineData("dhcp:\n  range: 192.0.2.9-192.0.2.1\n", "line 2: 'dhcp.range' must be START-END")]
    [InlineData("dhcp:\n  subnets:\n    - network: 192.0.2.0/24\n      range: 198.51.100.1-198.51.100.9\n", "is not inside 192.0.2.0/24")]
    [InlineData("dhcp:\n  subnets:\n    - network: 192.0.2.0\n", "must be ADDRESS/PREFIX")]
    [InlineData("dhcp:\n  subnets:\n    - network: 192.0.2.0/24\n      reservations:\n        - {mac: nope, address: 192.0.2.5}\n", "must look like 52:54:00:12:34:56")]
    [InlineData("dhcp:\n  subnets:\n    - network: 192.0.2.0/24\n      options:\n        - {code: 53, uint8: 5}\n", "option 53 is set by the server itself")]
    [InlineData("dhcp:\n  boot-files:\n    efi-sparc: x\n", "unknown key 'dhcp.boot-files.efi-sparc'")]
    public void Dhcp_mistakes_name_the_key_and_line(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Flags_turn_dhcp_on()
    {
        var options = ServeCommand.ResolveOptions(Program.BuildRootCommand().Parse(
            ["serve", "--dhcp", "full", "--interface", "eth0", "--dhcp-range", "192.0.2.100-192.0.2.199", "--config", "/dev/null"]));
        Assert.Equal(DhcpMode.Full, options.Dhcp.Mode);
        Assert.Equal("eth0", options.Dhcp.Interface);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), options.Dhcp.Range!.Value.Start);
    }

    [Theory]
    [InlineData(new[] { "--dhcp", "maybe" }, "--dhcp maybe: use off, proxy or full")]
    [InlineData(new[] { "--dhcp", "proxy" }, "--dhcp needs --interface")]
    [InlineData(new[] { "--dhcp", "full", "--interface", "eth0" }, "needs an address pool")]
    [InlineData(new[] { "--dhcp-range", "1-2" }, "--dhcp-range 1-2")]
    public void Dhcp_flag_mistakes_are_one_sentence(string[] args, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() =>
            ServeCommand.ResolveOptions(Program.BuildRootCommand().Parse(["serve", "--config", "/dev/null", .. args])));
        Assert.Contains(expected, e.Message);
    }
}

public class DoctorCommandTests
{
    [Fact]
    public void Doctor_dhcp_names_a_missing_interface()
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var exit = Program.BuildRootCommand().Parse(["doctor", "dhcp", "--interface", "nosuch0", "--wait", "1"]).Invoke();
            Assert.Equal(2, exit);
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("--interface nosuch0: no network interface has this name", error.ToString());
    }

    [Fact]
    public void Rate_limits_are_messages_a_second_with_a_five_second_burst_and_zero_turns_them_off()
    {
        var options = ConfigFile.Parse("dhcp: {rate-limit-per-client: 2, rate-limit-per-segment: 0}");
        Assert.Equal(new PxeKit.Protocols.Dhcp.DhcpRateLimit(2, 10), options.Dhcp.Server.PerClientLimit);
        Assert.False(options.Dhcp.Server.PerSegmentLimit.IsEnabled);
        Assert.Contains("'dhcp.rate-limit-per-client' must be between 0 and 1000",
            Assert.Throws<ConfigurationException>(() => ConfigFile.Parse("dhcp: {rate-limit-per-client: -1}")).Message);
    }
}
