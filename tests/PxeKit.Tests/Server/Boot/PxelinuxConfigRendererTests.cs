using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using static PxeKit.Tests.Server.Boot.BootPolicyFixture;

namespace PxeKit.Tests.Server.Boot;

public class PxelinuxConfigRendererTests
{
    private static string Default(string entries)
    {
        var policy = new BootPolicy(ConfigFile.Parse($$"""
            boot:
              default: m
              entries:
            {{entries}}
              menus:
                m: {title: Menu, items: [e]}
            """).Boot!);
        var anonymous = Facts("") with { Platform = ClientPlatform.BiosI386 };
        return new PxelinuxConfigRenderer(policy).Render("pxelinux.cfg/default", _ => anonymous, anonymous)!;
    }

    [Fact]
    public void An_entry_with_one_kernel_is_one_plain_label()
    {
        var config = Default("    e: {kind: linux, title: Rescue, kernel: rescue/linux, initrd: rescue/initrd.gz, args: quiet}");

        Assert.Contains("\nLABEL e\n  MENU LABEL Rescue\n  KERNEL /rescue/linux\n  INITRD /rescue/initrd.gz\n  APPEND quiet\n", config);
        Assert.DoesNotContain("ifcpu64", config);
    }

    [Fact]
    public void An_entry_with_64_and_32_bit_kernels_lets_ifcpu64_pick_one_of_two_hidden_labels_on_the_machine()
    {
        var config = Default("""
                e:
                  kind: linux
                  title: Debian
                  kernel: {x86_64: amd64/linux, i386: i386/linux}
                  initrd: {x86_64: amd64/initrd.gz, i386: i386/initrd.gz}
                  args: priority=critical
            """);

        Assert.Contains("\nLABEL e\n  MENU LABEL Debian\n  COM32 ifcpu64.c32\n  APPEND e.x86_64 -- e.i386\n", config);
        Assert.Contains("\nLABEL e.x86_64\n  MENU HIDE\n  KERNEL /amd64/linux\n  INITRD /amd64/initrd.gz\n  APPEND priority=critical\n", config);
        Assert.Contains("\nLABEL e.i386\n  MENU HIDE\n  KERNEL /i386/linux\n  INITRD /i386/initrd.gz\n  APPEND priority=critical\n", config);
    }

    [Fact]
    public void Only_a_differing_initrd_is_enough_to_split_the_entry()
    {
        var config = Default("    e: {kind: linux, kernel: linux, initrd: {x64: amd64.cpio, i386: i386.cpio}}");

        Assert.Contains("COM32 ifcpu64.c32", config);
        Assert.Contains("INITRD /amd64.cpio", config);
        Assert.Contains("INITRD /i386.cpio", config);
    }

    [Fact]
    public void An_entry_with_only_an_x86_64_kernel_is_a_plain_label_with_that_kernel()
    {
        var config = Default("    e: {kind: linux, title: Debian, kernel: {x86_64: amd64/linux}}");

        Assert.Contains("\nLABEL e\n  MENU LABEL Debian\n  KERNEL /amd64/linux\n", config);
        Assert.DoesNotContain("ifcpu64", config);
    }
}
