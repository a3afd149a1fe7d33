using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Options;

public class BootConfigTests
{
    private static string Error(string yaml) => Assert.Throws<ConfigurationException>(() => ConfigFile.Parse(yaml)).Message;

    [Fact]
    public void The_lab_example_reads_into_entries_menus_groups_and_clients()
    {
        var boot = ConfigFile.Parse(PxeKit.Tests.Server.Boot.BootPolicyFixture.LabYaml).Boot!;
        Assert.Equal(["debian", "winpe", "disk", "shell"], boot.Entries.Keys);
        Assert.Equal(3, boot.Groups.Count);
        Assert.Equal("52:54:00:bb:00:02", boot.Clients[1].Mac);
        var menu = boot.Menus["main"];
        Assert.Equal(TimeSpan.FromSeconds(8), menu.Timeout);
        Assert.Equal("Tools", menu.Items[2].Separator);
        Assert.Equal("s", menu.Items[3].Key);
        Assert.IsType<WimbootEntry>(boot.Entries["winpe"]);
    }

    [Fact]
    public void No_boot_section_means_no_policy() => Assert.Null(ConfigFile.Parse("root: x").Boot);

    [Theory]
    [InlineData("boot: {default: nothing, entries: {disk: {kind: local}}}", "line 1: 'boot.default' names 'nothing', which is no entry or menu under boot (defined: disk)")]
    [InlineData("boot: {entries: {disk: {kind: floppy}}}", "'boot.entries.disk.kind' must be one of linux, wimboot, sanboot, chain, pxelinux, memdisk, local, shell, script; not 'floppy'")]
    [InlineData("boot: {entries: {disk: {title: x}}}", "'boot.entries.disk' needs 'kind'")]
    [InlineData("boot: {entries: {d: {kind: linux}}}", "the linux entry 'd' needs 'kernel'")]
    [InlineData("boot: {entries: {d: {kind: linux, kernel: k, url: x}}}", "unknown key 'boot.entries.d.url'")]
    [InlineData("boot: {entries: {d: {kind: linux, kernel: k, args: 'x={{macaddress}}'}}}", "uses {{macaddress}}, which is not a placeholder")]
    [InlineData("boot: {entries: {d: {kind: linux, kernel: {sparc: k}}}}", "key 'sparc' is not a platform")]
    [InlineData("boot: {entries: {'bad name': {kind: local}}}", "name 'bad name' must be letters, digits")]
    [InlineData("boot: {entries: {pxekit_failed: {kind: local}}}", "not starting with pxekit_")]
    [InlineData("boot: {entries: {p: {kind: pxelinux, menu: nope}}}", "pxelinux entry 'p' shows menu 'nope', which is not under boot.menus")]
    [InlineData("boot: {entries: {d: {kind: local}}, menus: {m: {default: x, items: [d]}}}", "menu 'm' has default 'x', which is not one of its items (d)")]
    [InlineData("boot: {entries: {d: {kind: local}}, menus: {m: {items: [d, ghost]}}}", "'boot.menus.m.items' names 'ghost'")]
    [InlineData("boot: {entries: {d: {kind: local}}, menus: {d: {items: [d]}}}", "'d' is both an entry and a menu")]
    [InlineData("boot: {entries: {d: {kind: local}}, groups: [{name: g, match: {}, boot: d}]}", "has no conditions; a group for everyone is boot.default")]
    [InlineData("boot: {entries: {d: {kind: local}}, groups: [{name: g, match: {arch: sparc}, boot: d}]}", "'boot.groups[].match.arch' must be bios, efi")]
    [InlineData("boot: {entries: {d: {kind: local}}, groups: [{name: g, match: {ip: 192.0.2.0/33}, boot: d}]}", "'boot.groups[].match.ip' must be 192.0.2.0/24")]
    [InlineData("boot: {entries: {d: {kind: local}}, clients: [{mac: 'zz:54:00:12:34:56', boot: d}]}", "'boot.clients[].mac' must look like 52:54:00:12:34:56")]
    [InlineData("boot: {entries: {d: {kind: local}}, clients: [{name: x, boot: d}]}", "each boot client needs 'mac' or 'uuid'")]
    [InlineData("boot: {entries: {d: {kind: local}}, clients: [{mac: '52:54:00:12:34:56', name: 'a b', boot: d}]}", "must be a host name")]
    [InlineData("boot: {entries: {d: {kind: local}}, menus: {m: {items: [d, {separator: x, boot: d}]}}}", "each item of 'boot.menus.m' is an entry or menu name")]
    public void Mistakes_are_one_sentence_naming_the_key(string yaml, string expected) =>
        Assert.Contains(expected, Error(yaml));

    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.0", "192.0.2.255")]
    [InlineData("192.0.2.77/24", "192.0.2.0", "192.0.2.255")]
    [InlineData("192.0.2.10-192.0.2.20", "192.0.2.10", "192.0.2.20")]
    [InlineData("192.0.2.5", "192.0.2.5", "192.0.2.5")]
    [InlineData("0.0.0.0/0", "0.0.0.0", "255.255.255.255")]
    public void Address_ranges_are_cidr_blocks_dash_ranges_or_single_addresses(string text, string start, string end)
    {
        var range = ConfigFile.ParseAddressRange(text)!.Value;
        Assert.Equal(start, range.Start.ToString());
        Assert.Equal(end, range.End.ToString());
    }
}
