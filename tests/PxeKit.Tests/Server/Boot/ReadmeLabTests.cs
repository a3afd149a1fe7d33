using System.Text.RegularExpressions;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;

namespace PxeKit.Tests.Server.Boot;

/// <summary>The lab in the README's boot policy section is a configuration PxeKit loads, and it decides as the
/// comments beside it say.</summary>
public partial class ReadmeLabTests
{
    private static string ReadmeLab()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "PxeKit.slnx")))
            dir = dir.Parent;
        var readme = File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        var section = readme[readme.IndexOf("## Boot policy: entries, menus, groups and clients", StringComparison.Ordinal)..];
        return FirstYamlBlock().Match(section).Groups[1].Value;
    }

    [Fact]
    public void The_readme_lab_loads_and_each_machine_gets_what_its_comment_says()
    {
        var options = ConfigFile.Parse(ReadmeLab());
        var policy = new BootPolicy(options.Boot!);
        ClientFacts Client(string mac, ClientPlatform platform, string ip, string? vendor = null) => new()
        {
            Mac = mac, Platform = platform, Address = System.Net.IPAddress.Parse(ip), VendorClass = vendor,
            ServerAddress = System.Net.IPAddress.Parse("192.0.2.1"), HttpPort = 8080,
        };

        var classroom = policy.Decide(Client("52:54:00:aa:00:01", ClientPlatform.EfiX64, "192.0.2.20"))!;
        Assert.Equal(("lab", "group classroom", "winpe"), (classroom.Target.Name, classroom.Reason, classroom.MenuDefault));
        Assert.Equal("debian", policy.Decide(Client("52:54:00:5e:00:01", ClientPlatform.EfiX64, "192.0.2.200"))!.Target.Name);
        Assert.Equal("win-iscsi", policy.Decide(Client("52:54:00:bb:00:01", ClientPlatform.BiosI386, "192.0.2.201", "PXEClient:Arch:00000:UNDI:002001"))!.Target.Name);
        var teacher = policy.Decide(Client("52:54:00:12:34:56", ClientPlatform.EfiX64, "192.0.2.20"))!;
        Assert.Equal(("winpe", "client teacher (52:54:00:12:34:56)"), (teacher.Target.Name, teacher.Reason));
        Assert.Equal("default", policy.Decide(Client("52:54:00:cc:00:01", ClientPlatform.EfiX64, "192.0.2.220"))!.Reason);

        var script = new IpxeScriptRenderer(policy).Render(teacher, Client("52:54:00:12:34:56", ClientPlatform.EfiX64, "192.0.2.20"), "http://192.0.2.1:8080/boot.ipxe?mac=52:54:00:12:34:56");
        Assert.Contains("initrd -n BCD http://192.0.2.1:8080/pxekit/winpe-uefi.bcd", script);
        Assert.Contains("initrd -n boot.wim http://192.0.2.1:8080/sources/x64/boot.wim", script);
    }

    [GeneratedRegex("```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex FirstYamlBlock();
}
