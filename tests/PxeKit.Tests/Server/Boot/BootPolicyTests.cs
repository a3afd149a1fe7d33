using PxeKit.Server.Boot;
using static PxeKit.Tests.Server.Boot.BootPolicyFixture;

namespace PxeKit.Tests.Server.Boot;

public class BootPolicyTests
{
    [Fact]
    public void A_per_mac_client_rule_beats_the_group_its_machine_is_in()
    {
        var decision = Lab().Decide(Facts("52:54:00:aa:00:01"))!;
        Assert.Equal("debian", decision.Target.Name);
        Assert.Equal("client ws01 (52:54:00:aa:00:01)", decision.Reason);
        Assert.Equal("ws01", decision.Hostname);
    }

    [Fact]
    public void A_group_matches_only_when_every_condition_holds()
    {
        var policy = Lab();
        Assert.Equal("group uefi-lab", policy.Decide(Facts("52:54:00:aa:00:09"))!.Reason);
        // Right MAC prefix, wrong architecture: falls through to the default.
        Assert.Equal("default", policy.Decide(Facts("52:54:00:aa:00:09", ClientPlatform.BiosI386))!.Reason);
    }

    [Fact]
    public void Groups_are_tried_in_the_order_written()
    {
        var decision = Lab().Decide(Facts("52:54:00:aa:00:09", ip: "192.0.2.200"))!;
        Assert.Equal("group uefi-lab", decision.Reason);
        Assert.Equal("winpe", decision.MenuDefault);
    }

    [Theory]
    [InlineData("192.0.2.128", "group servers")]
    [InlineData("192.0.2.255", "group servers")]
    [InlineData("192.0.2.127", "default")]
    public void An_address_range_group_matches_its_cidr_block(string ip, string reason) =>
        Assert.Equal(reason, Lab().Decide(Facts("52:54:00:cc:00:01", ip: ip))!.Reason);

    [Fact]
    public void Vendor_class_patterns_are_globs()
    {
        var policy = Lab();
        Assert.Equal("group thin-clients", policy.Decide(Facts("52:54:00:cc:00:01", ClientPlatform.BiosI386, vendorClass: "PXEClient:Arch:00000:UNDI:002001"))!.Reason);
        Assert.Equal("default", policy.Decide(Facts("52:54:00:cc:00:01", vendorClass: "PXEClient:Arch:00007:UNDI:003016"))!.Reason);
    }

    [Fact]
    public void A_client_rule_without_boot_keeps_its_name_and_falls_through_to_groups()
    {
        var decision = Lab().Decide(Facts("52:54:00:bb:00:02"))!;
        Assert.Equal("default", decision.Reason);
        Assert.Equal("kiosk2", decision.Hostname);
    }

    [Fact]
    public void Clients_nothing_names_get_the_default()
    {
        var decision = Lab().Decide(Facts("52:54:00:dd:00:01"))!;
        Assert.Equal("main", decision.Target.Name);
        Assert.IsType<BootMenu>(decision.Target);
    }

    [Fact]
    public void Without_a_default_an_unmatched_client_gets_no_decision()
    {
        var policy = new BootPolicy(PxeKit.Server.Options.ConfigFile.Parse("""
            boot:
              entries: {disk: {kind: local}}
              clients: [{mac: "52:54:00:00:00:01", boot: disk}]
            """).Boot!);
        Assert.Null(policy.Decide(Facts("52:54:00:00:00:02")));
        Assert.NotNull(policy.Decide(Facts("52:54:00:00:00:01")));
    }

    [Theory]
    [InlineData("efi", 7, true)]
    [InlineData("efi", 0, false)]
    [InlineData("bios", 0, true)]
    [InlineData("efi-x64", 9, true)]
    [InlineData("7", 7, true)]
    [InlineData("efi-arm64", 11, true)]
    [InlineData("efi-arm64", 7, false)]
    public void Architecture_names_match_the_platform_they_describe(string name, ushort arch, bool matches) =>
        Assert.Equal(matches, BootPolicy.ArchitectureMatches(name, ClientPlatform.FromArchitecture(arch)!.Value));

    [Fact]
    public void Reachable_menus_follow_submenus_and_include_cycles_once()
    {
        var policy = new BootPolicy(PxeKit.Server.Options.ConfigFile.Parse("""
            boot:
              default: a
              entries: {disk: {kind: local}}
              menus:
                a: {items: [disk, b]}
                b: {items: [disk, a]}
                c: {items: [disk]}
            """).Boot!);
        var reachable = policy.ReachableMenus(policy.Definition.Menus["a"]);
        Assert.Equal(["a", "b"], reachable.Order());
    }

    private static BootPolicy Guarded() => new(PxeKit.Server.Options.ConfigFile.Parse("""
        boot:
          default: top
          entries: {disk: {kind: local}, shell: {kind: shell}}
          menus:
            top: {password: secret, default: quick, items: [disk, tools, quick]}
            tools: {items: [shell, diag]}
            diag: {items: [shell]}
            quick: {items: [disk]}
        """).Boot!);

    [Theory]
    [InlineData("top", null, true)]
    [InlineData("quick", null, true)]       // the password menu's default: an unattended machine must boot
    [InlineData("tools", null, false)]
    [InlineData("tools", "wrong", false)]
    [InlineData("tools", "secret", true)]
    [InlineData("diag", null, false)]       // deeper behind the password: not open by a direct request
    [InlineData("diag", "secret", true)]
    [InlineData("nowhere", "secret", false)]
    public void A_menu_password_guards_every_submenu_behind_it(string menu, string? password, bool opens)
    {
        var policy = Guarded();
        Assert.Equal(opens, policy.MayOpenMenu(policy.Definition.Menus["top"], menu, password));
    }

    [Fact]
    public void Without_a_password_every_reachable_submenu_opens()
    {
        var policy = new BootPolicy(PxeKit.Server.Options.ConfigFile.Parse("""
            boot:
              default: top
              entries: {disk: {kind: local}}
              menus: {top: {items: [disk, a]}, a: {items: [disk, b]}, b: {items: [disk]}}
            """).Boot!);
        Assert.True(policy.MayOpenMenu(policy.Definition.Menus["top"], "b", null));
        Assert.False(policy.MayOpenMenu(policy.Definition.Entries["disk"], "a", null));
    }

    [Theory]
    [InlineData("52:54:00:12:34:56", "52:54:00:12:34:56")]
    [InlineData("52-54-00-12-34-56", "52:54:00:12:34:56")]
    [InlineData("525400123456", "52:54:00:12:34:56")]
    [InlineData("5254.0012.3456", "52:54:00:12:34:56")]
    [InlineData("52:54:00:AB:CD:EF", "52:54:00:ab:cd:ef")]
    public void Mac_addresses_are_read_in_every_usual_spelling(string text, string expected)
    {
        Assert.True(MacAddress.TryNormalize(text, out var mac));
        Assert.Equal(expected, mac);
    }

    [Theory]
    [InlineData("")]
    [InlineData("52:54:00:12:34")]
    [InlineData("52:54:00:12:34:5g")]
    [InlineData("5:25:40:01:23:456")]
    [InlineData("${net0/mac}")]
    public void Anything_else_is_not_a_mac(string text) => Assert.False(MacAddress.TryNormalize(text, out _));
}
