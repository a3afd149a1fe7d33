using System.Net;
using PxeKit.Server.Boot;

namespace PxeKit.Tests.Server.Boot;

public class ClientAddressAndPlatformTests
{
    [Fact]
    public void A_dual_stack_socket_address_is_keyed_as_plain_ipv4() =>
        Assert.Equal(IPAddress.Parse("192.0.2.7"), NetworkAddress.Unmapped(IPAddress.Parse("::ffff:192.0.2.7")));

    [Fact]
    public void Script_urls_put_an_ipv6_server_in_brackets()
    {
        var facts = new ClientFacts { Mac = "52:54:00:12:34:56", ServerAddress = IPAddress.Parse("2001:db8::1"), HttpPort = 8080, TftpPort = 6969 };
        Assert.Equal("http://[2001:db8::1]:8080", facts.HttpBase);
        Assert.Equal("tftp://[2001:db8::1]:6969", facts.TftpBase);
        Assert.Equal("http://192.0.2.1", (facts with { ServerAddress = IPAddress.Parse("192.0.2.1"), HttpPort = 80 }).HttpBase);
    }

    [Fact]
    public void A_riscv64_ipxe_client_keeps_its_own_architecture_code()
    {
        var platform = ClientPlatform.FromIpxe("efi", "riscv64")!.Value;
        Assert.Equal(27, platform.Architecture);
        Assert.Equal("efi-riscv64", platform.Name);
    }
}
