using PxeKit.Server.Hosting;

namespace PxeKit.Tests.Server.Hosting;

public class TemplateGlobTests
{
    [Theory]
    [InlineData("*.ipxe.tmpl", "menu.ipxe.tmpl", true)]
    [InlineData("*.ipxe.tmpl", "sub/menu.ipxe.tmpl", false)]
    [InlineData("**.ipxe.tmpl", "sub/menu.ipxe.tmpl", true)]
    [InlineData("preseed/*.cfg", "preseed/a.cfg", true)]
    [InlineData("preseed/*.cfg", "Preseed/A.CFG", true)]
    [InlineData("preseed/*.cfg", "preseed/x/a.cfg", false)]
    [InlineData("preseed/**", "preseed/x/a.cfg", true)]
    [InlineData("/boot.?fg", "boot.cfg", true)]
    [InlineData("a.cfg", "axcfg", false)]
    public void Template_globs_keep_star_within_a_folder_and_double_star_across(string glob, string name, bool matches) =>
        Assert.Equal(matches, BootConfiguration.PathGlob(glob).IsMatch(name));
}
