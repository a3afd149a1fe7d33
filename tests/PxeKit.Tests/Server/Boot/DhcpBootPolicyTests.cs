using System.Net;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Tests.Protocols.Dhcp;
using static PxeKit.Tests.Protocols.Dhcp.DhcpTestPackets;

namespace PxeKit.Tests.Server.Boot;

public class DhcpBootPolicyTests
{
    private static readonly IPAddress Server = IPAddress.Parse("192.0.2.1");

    private static DhcpBootChoice? Choose(DhcpBootOptions options, params DhcpOption[] requestOptions)
    {
        var packet = Parse(Encode(Request(DhcpMessageType.Discover, options: requestOptions)));
        return new DhcpBootPolicy(options).Choose(new DhcpBootRequest(packet.HardwareAddressText, PxeClientInfo.From(packet), Server));
    }

    [Theory]
    [InlineData(0, "undionly.kpxe")]
    [InlineData(7, "ipxe.efi")]
    [InlineData(9, "ipxe.efi")]
    public void Default_files_per_architecture(ushort arch, string file)
    {
        var choice = Choose(new DhcpBootOptions(), Pxe(arch), Arch(arch));
        Assert.Equal(file, choice!.BootFile);
        Assert.Null(choice.NextServer);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(19)]
    public void Architectures_without_a_configured_file_get_nothing(ushort arch)
    {
        Assert.Null(Choose(new DhcpBootOptions(), Pxe(arch), Arch(arch)));
    }

    [Theory]
    [InlineData("efi-ia32", 6)]
    [InlineData("efi-arm32", 10)]
    [InlineData("efi-arm64", 11)]
    public void Each_architecture_is_configurable(string name, ushort arch)
    {
        var options = new DhcpBootOptions();
        foreach (var code in DhcpBootOptions.ArchitectureNames[name])
            options.Files[code] = $"{name}.efi";
        Assert.Equal($"{name}.efi", Choose(options, Pxe(arch), Arch(arch))!.BootFile);
    }

    [Fact]
    public void Ipxe_gets_its_script_over_http_with_the_mac()
    {
        var choice = Choose(new DhcpBootOptions { HttpPort = 8080 }, Pxe(0), Arch(0), Text(DhcpOptionCode.UserClass, "iPXE"));
        Assert.Equal("http://192.0.2.1:8080/boot.ipxe?mac=52:54:00:12:34:56", choice!.BootFile);
    }

    [Fact]
    public void Ipxe_without_http_gets_nothing_rather_than_itself_again()
    {
        Assert.Null(Choose(new DhcpBootOptions { HttpEnabled = false }, Pxe(7), Arch(7), new DhcpOption(DhcpOptionCode.IpxeEncapsulated, [1, 1, 1])));
    }

    [Fact]
    public void Http_boot_client_gets_a_url()
    {
        var choice = Choose(new DhcpBootOptions { HttpPort = 8081 },
            Text(DhcpOptionCode.VendorClassIdentifier, "HTTPClient:Arch:00016:UNDI:003001"), Arch(16));
        Assert.Equal("http://192.0.2.1:8081/ipxe.efi", choice!.BootFile);
    }

    [Fact]
    public void Next_server_full_url_and_bcd_path()
    {
        var options = new DhcpBootOptions { NextServer = IPAddress.Parse("192.0.2.5"), WindowsBcdPath = @"\Boot\{arch}\bcd" };
        options.Files[0] = "http://192.0.2.7/x.kpxe";
        var choice = Choose(options, Pxe(7), Arch(7))!;
        Assert.Equal(IPAddress.Parse("192.0.2.5"), choice.NextServer);
        Assert.Equal(@"\Boot\00007\bcd", choice.WindowsBcdPath);
        Assert.Equal("http://192.0.2.7/x.kpxe", Choose(options, Pxe(0), Arch(0))!.BootFile);
    }

    [Fact]
    public void Non_pxe_and_unknown_architecture_get_nothing()
    {
        Assert.Null(Choose(new DhcpBootOptions(), Text(DhcpOptionCode.VendorClassIdentifier, "MSFT 5.0")));
        Assert.Null(Choose(new DhcpBootOptions(), Text(DhcpOptionCode.VendorClassIdentifier, "PXEClient:Arch:junk")));
    }
    [Fact]
    public void Ipxe_script_url_gets_server_and_hyphenated_mac_from_templates()
    {
        // Tiny PXE Server's http://@opt54/iscsi.ps1?@mac, as pxekit import tinypxe writes it.
        var options = new DhcpBootOptions { IpxeScript = "http://{{server}}/iscsi.ps1?{{mac-hyphen}}" };
        var choice = Choose(options, Pxe(7), Arch(7), Text(DhcpOptionCode.UserClass, "iPXE"));
        Assert.Equal("http://192.0.2.1/iscsi.ps1?52-54-00-12-34-56", choice!.BootFile);
    }

    [Theory]
    [InlineData("{{mac}}", "52:54:00:12:34:56")]
    [InlineData("{{mac-hyphen}}", "52-54-00-12-34-56")]
    [InlineData("{{mac-hex}}", "525400123456")]
    [InlineData("{{server}}", "192.0.2.1")]
    [InlineData("{{opt54}}", "192.0.2.1")]
    [InlineData("{{arch-code}}", "00007")]
    [InlineData("a{{unknown}}b", "a{{unknown}}b")]
    [InlineData("plain.efi", "plain.efi")]
    public void Each_template_is_replaced_by_the_value_the_server_formats(string template, string expected)
    {
        var options = new DhcpBootOptions();
        options.Files[7] = "tftp://x/" + template;
        Assert.Equal("tftp://x/" + expected, Choose(options, Pxe(7), Arch(7))!.BootFile);
    }

    [Fact]
    public void Relative_script_with_a_query_gets_the_mac_appended_with_an_ampersand()
    {
        var options = new DhcpBootOptions { HttpPort = 8080, IpxeScript = "boot.php?client={{mac-hex}}&arch={{arch-code}}" };
        var choice = Choose(options, Pxe(0), Arch(0), Text(DhcpOptionCode.UserClass, "iPXE"));
        Assert.Equal("http://192.0.2.1:8080/boot.php?client=525400123456&arch=00000&mac=52:54:00:12:34:56", choice!.BootFile);
    }

    [Fact]
    public void Templated_tftp_boot_file_names_the_client()
    {
        var options = new DhcpBootOptions();
        options.Files[0] = "clients/{{mac-hyphen}}/undionly.kpxe";
        Assert.Equal("clients/52-54-00-12-34-56/undionly.kpxe", Choose(options, Pxe(0), Arch(0))!.BootFile);
    }
}
