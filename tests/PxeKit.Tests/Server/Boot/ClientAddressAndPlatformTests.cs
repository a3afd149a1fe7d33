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

    private static readonly PlatformValue Kernels = PlatformValue.Of(new Dictionary<string, string> { ["x64"] = "k64", ["i386"] = "k32" });
    private static readonly PlatformValue OnlyX64 = PlatformValue.Of(new Dictionary<string, string> { ["x86_64"] = "k64" });

    [Fact]
    public void A_bios_pc_whose_cpu_has_long_mode_gets_the_x86_64_files_although_its_ipxe_is_an_i386_build()
    {
        var platform = ClientPlatform.FromIpxe("pcbios", "i386", "x86_64")!.Value;
        Assert.Equal("k64", Kernels.For(platform));
        Assert.Equal("bios", platform.Name);
        Assert.Equal(0, platform.Architecture);
        Assert.True(BootPolicy.ArchitectureMatches("0", platform));
        Assert.True(BootPolicy.ArchitectureMatches("bios", platform));
    }

    [Fact]
    public void A_bios_pc_with_a_32_bit_cpu_gets_i386_files_and_never_x86_64_ones()
    {
        var platform = ClientPlatform.FromIpxe("pcbios", "i386", "i386")!.Value;
        Assert.Equal("k32", Kernels.For(platform));
        Assert.Null(OnlyX64.For(platform));
    }

    [Fact]
    public void A_bios_client_that_did_not_report_its_cpu_prefers_i386_files_and_falls_back_to_x86_64_ones()
    {
        Assert.Equal("k32", Kernels.For(ClientPlatform.BiosI386));
        Assert.Equal("k64", OnlyX64.For(ClientPlatform.BiosI386));
    }

    [Fact]
    public void A_64_bit_bios_pc_still_boots_an_i386_only_entry_and_a_platform_key_beats_default()
    {
        var platform = ClientPlatform.FromIpxe("pcbios", "i386", "x86_64")!.Value;
        Assert.Equal("k32", PlatformValue.Of(new Dictionary<string, string> { ["bios-i386"] = "k32", ["efi"] = "e" }).For(platform));
        Assert.Equal("b", PlatformValue.Of(new Dictionary<string, string> { ["bios"] = "b", ["default"] = "d" }).For(platform));
    }

    [Fact]
    public void Uefi_gets_only_files_of_its_own_architecture_whatever_cpu_a_query_claims()
    {
        var ia32 = ClientPlatform.FromIpxe("efi", "i386", "x86_64")!.Value;
        Assert.Null(ia32.Cpu);
        Assert.Equal("k32", Kernels.For(ia32));
        Assert.Null(OnlyX64.For(ia32));
        Assert.Equal("k64", Kernels.For(ClientPlatform.FromIpxe("efi", "x86_64", "i386")!.Value));
    }

    [Fact]
    public void An_unknown_cpu_word_is_no_cpu()
    {
        Assert.Null(ClientPlatform.FromIpxe("pcbios", "i386", "${pxekit-cpu}")!.Value.Cpu);
        Assert.Null(ClientPlatform.FromIpxe("pcbios", "i386", "")!.Value.Cpu);
    }
}
