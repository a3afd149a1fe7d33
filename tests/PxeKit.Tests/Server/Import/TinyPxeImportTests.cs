using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;
using PxeKit.Server.Import;
using PxeKit.Server.Options;
using YamlDotNet.RepresentationModel;

namespace PxeKit.Tests.Server.Import;

/// <summary>
/// The property that matters: the YAML the importer writes loads with <see cref="ConfigFile.Parse"/>, validates, and
/// the options it gives are what the ini says. Inputs are in TestData/TinyPxe (provenance in its README).
/// </summary>
public class TinyPxeImportTests
{
    private static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "TestData", "TinyPxe");

    private static TinyPxeImportResult Import(string file) =>
        TinyPxeImport.Translate(TinyPxeIni.Load(Path.Combine(DataDirectory, file)), file);

    private static TinyPxeImportResult ImportText(string ini) =>
        TinyPxeImport.Translate(TinyPxeIni.Parse(Encoding.UTF8.GetBytes(ini)), "test.ini");

    /// <summary>Loads the YAML as pxekit serve would.</summary>
    private static PxeKitOptions Load(string yaml) => ConfigFile.Parse(yaml);

    private static void Validates(PxeKitOptions options)
    {
        options.Dhcp.Server.Mode = options.Dhcp.Mode;
        Assert.Null(options.Dhcp.Server.Validate());
    }

    [Fact]
    public void Proxy_dhcp_with_ipxe_altfilename_keeps_its_boot_files_and_script()
    {
        var result = Import("proxy-ipxe.ini");
        var options = Load(result.Yaml);

        Assert.Equal(DhcpMode.Proxy, options.Dhcp.Mode);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), options.Dhcp.Server.ServerAddress);
        Assert.Equal("undionly.kpxe", options.Dhcp.Boot.Files[ClientArchitecture.BiosX86]);
        Assert.Equal("ipxe.efi", options.Dhcp.Boot.Files[ClientArchitecture.EfiX64]);
        Assert.Equal("menu.ipxe", options.Dhcp.Boot.IpxeScript);
        Assert.Null(options.Dhcp.Boot.NextServer); // next-server = opt54: this server, PxeKit's default
        Assert.Equal([IPAddress.Parse("192.0.2.10")], options.Listen); // bind=1 with opt54
        Assert.Equal(80, options.Http.Port);
        Assert.Equal("boot", options.Root); // C:\pxesrv\files cannot be used: PxeKit's default stays
        Validates(options);

        Assert.Contains(result.NotTranslated, l => l.StartsWith(@"[dhcp] root=C:\pxesrv\files (line 13): a Windows path", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[frmDHCPServer] (line 20, 2 keys): the position", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[dhcp] poolsize=998", StringComparison.Ordinal));
        Assert.Contains("# root: /srv/pxekit", result.Yaml, StringComparison.Ordinal);
        Assert.Contains("# from [dhcp] filename=undionly.kpxe", result.Yaml, StringComparison.Ordinal);
        foreach (var line in result.NotTranslated)
            Assert.Contains("# not translated: " + line, result.Yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Full_dhcp_pool_and_options_become_one_subnet()
    {
        var result = Import("full-dhcp.ini");
        var options = Load(result.Yaml);

        Assert.Equal(DhcpMode.Full, options.Dhcp.Mode);
        var subnet = Assert.Single(options.Dhcp.Server.Subnets);
        Assert.Equal("192.0.2.0/24", subnet.ToString());
        Assert.Equal(IPAddress.Parse("192.0.2.201"), subnet.RangeStart);
        Assert.Equal(IPAddress.Parse("192.0.2.210"), subnet.RangeEnd); // poolsize=10
        Assert.Equal([IPAddress.Parse("192.0.2.254")], subnet.Routers);
        Assert.Equal([IPAddress.Parse("192.0.2.53")], subnet.DnsServers);
        Assert.Equal("lab.example", subnet.DomainName);
        Assert.Equal(TimeSpan.FromSeconds(3600), subnet.LeaseTime);
        Assert.Contains(subnet.CustomOptions, o => o.Code == 28 && o.Value.SequenceEqual(IPAddress.Parse("192.0.2.255").GetAddressBytes()));
        Assert.Contains(subnet.CustomOptions, o => o.Code == 175 && o.Value.SequenceEqual(new byte[] { 1, 1, 1, 8, 1, 1 }));
        Assert.Equal(IPAddress.Parse("192.0.2.10"), options.Dhcp.Server.ServerAddress);
        Assert.Equal("ipxe.pxe", options.Dhcp.Boot.Files[0]);
        Assert.Equal("ipxe-i386.efi", options.Dhcp.Boot.Files[6]);
        Assert.Equal("ipxe-x64.efi", options.Dhcp.Boot.Files[7]);
        Assert.Equal("ipxe-x64.efi", options.Dhcp.Boot.Files[9]);
        Assert.Equal("wimbootM.ipxe", options.Dhcp.Boot.IpxeScript);
        Assert.Equal("Files", options.Root);
        Assert.Equal(8080, options.Http.Port);
        Validates(options);
        Assert.Equal([@"[dhcp] opt43=0 (line 21): PxeKit builds option 43 for PXE clients itself"], result.NotTranslated);
    }

    [Fact]
    public void Arch_map_and_per_architecture_bcd_reach_the_boot_file_system_and_option_252()
    {
        var result = Import("arch-map-bcd.ini");
        var options = Load(result.Yaml);

        Assert.Equal("pxeboot.n12", options.Dhcp.Boot.Files[0]);
        Assert.Equal("bootx64.efi", options.Dhcp.Boot.Files[7]);
        Assert.Equal(@"\Boot\{arch}\bcd", options.Dhcp.Boot.WindowsBcdPath);
        Assert.False(options.Http.Enabled);
        Assert.True(options.Tftp.Enabled);
        Assert.Equal("files", options.Root);
        Assert.Equal(2, options.Tftp.Remap.Count);
        Assert.Empty(result.NotTranslated);

        // The translated rules, applied as the server applies them, to the names Windows clients send.
        var root = Directory.CreateTempSubdirectory("pxekit-tinypxe-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "bcd"), "store");
            Directory.CreateDirectory(Path.Combine(root, "fonts"));
            File.WriteAllText(Path.Combine(root, "fonts", "wgl4_boot.ttf"), "font");
            var files = new BootFileSystem(root, [.. options.Tftp.Remap.Select(r => RemapRule.Create(r.Match, r.Replace))], caseInsensitive: false);
            Assert.Equal("bcd", files.Resolve(@"\Boot\BCD").MappedName);
            Assert.Equal("bcd", files.Resolve("/boot/bcd").MappedName);
            Assert.Equal("bcd", files.Resolve(@"boot\bcd").MappedName);
            Assert.Equal("fonts/wgl4_boot.ttf", files.Resolve(@"\Boot\Fonts\wgl4_boot.ttf").MappedName);
            Assert.NotEqual("bcd", files.Resolve(@"\boot\bcd.log").MappedName); // the whole name, not a prefix
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        // Option 252 for a UEFI x64 client names the 00007 folder, Tiny PXE Server's layout.
        var packet = Protocols.Dhcp.DhcpTestPackets.Parse(Protocols.Dhcp.DhcpTestPackets.Encode(Protocols.Dhcp.DhcpTestPackets.Request(DhcpMessageType.Discover,
            options: [Protocols.Dhcp.DhcpTestPackets.Pxe(7), Protocols.Dhcp.DhcpTestPackets.Arch(7)])));
        var choice = new DhcpBootPolicy(options.Dhcp.Boot).Choose(new DhcpBootRequest(packet.HardwareAddressText, PxeClientInfo.From(packet), IPAddress.Parse("192.0.2.10")));
        Assert.Equal(@"\Boot\00007\bcd", choice!.WindowsBcdPath);
        Assert.Equal("bootx64.efi", choice.BootFile);
    }

    [Fact]
    public void Iscsi_script_url_and_web_engines_translate_and_the_url_expands_per_client()
    {
        // Only python3 is installed (as on a fresh Debian): the others are listed with the line to add.
        var result = TinyPxeImport.Translate(TinyPxeIni.Load(Path.Combine(DataDirectory, "iscsi-web.ini")), "iscsi-web.ini",
            programExists: program => program == "/usr/bin/python3");
        var options = Load(result.Yaml);

        Assert.Equal("http://{{server}}/iscsi.ps1?{{mac-hyphen}}", options.Dhcp.Boot.IpxeScript);
        Assert.Equal(80, options.Http.Port);
        var packet = Protocols.Dhcp.DhcpTestPackets.Parse(Protocols.Dhcp.DhcpTestPackets.Encode(Protocols.Dhcp.DhcpTestPackets.Request(DhcpMessageType.Discover,
            options: [Protocols.Dhcp.DhcpTestPackets.Pxe(7), Protocols.Dhcp.DhcpTestPackets.Arch(7), Protocols.Dhcp.DhcpTestPackets.Text(DhcpOptionCode.UserClass, "iPXE")])));
        var choice = new DhcpBootPolicy(options.Dhcp.Boot).Choose(new DhcpBootRequest(packet.HardwareAddressText, PxeClientInfo.From(packet), options.Dhcp.Server.ServerAddress));
        Assert.Equal("http://192.0.2.10/iscsi.ps1?52-54-00-12-34-56", choice!.BootFile);

        // scripts: exactly the shape the scripts section takes: extension, program, args.
        var stream = new YamlStream();
        stream.Load(new StringReader(result.Yaml));
        var scripts = (YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)[new YamlScalarNode("scripts")];
        var entries = scripts.Children.Cast<YamlMappingNode>().Select(m => (
            Extension: ((YamlScalarNode)m[new YamlScalarNode("extension")]).Value,
            Program: ((YamlScalarNode)m[new YamlScalarNode("program")]).Value,
            Args: string.Join(' ', ((YamlSequenceNode)m[new YamlScalarNode("args")]).Children.Select(a => ((YamlScalarNode)a).Value)))).ToList();
        Assert.Equal([(".py", "/usr/bin/python3", "{file}")], entries);
        Assert.Equal("/usr/bin/python3", Assert.Single(options.Scripts).Program);
        Assert.Contains(result.NotTranslated, l => l.Contains("/usr/bin/php is not installed here (Debian package php-cli); install it, then add under scripts: {extension: .php, program: /usr/bin/php, args: [\"{file}\"]}", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.Contains("/usr/bin/pwsh is not installed here", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith(@"[web] vbs=C:\Windows\System32\cscript.exe (line 14): Windows Script Host", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[mydomain.example] (line 17, 1 key): a record for Tiny PXE Server's DNS daemon", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[dhcp] log=1", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_sections_and_keys_are_listed_and_the_rest_still_translates()
    {
        var result = ImportText("[dhcp]\nproxydhcp=1\nopt54=192.0.2.10\nusemac=1\nopt150=192.0.2.5\nfilename=undionly.kpxe\n[surprise]\na=b\n");
        var options = Load(result.Yaml);
        Assert.Equal(DhcpMode.Proxy, options.Dhcp.Mode);
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[dhcp] usemac=1 (line 4): not a key this importer knows", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[dhcp] opt150=192.0.2.5 (line 5): the ini does not say option 150's type", StringComparison.Ordinal));
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[surprise] (line 7, 1 key): not a section this importer knows", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("opt1=255.255.255.0\npoolsize=10\n", "no poolstart")]
    [InlineData("poolstart=192.0.2.20\npoolsize=10\n", "opt1 (the subnet mask) is missing")]
    [InlineData("poolstart=192.0.2.20\npoolsize=10\nopt1=255.0.255.0\n", "opt1 (the subnet mask) is missing or not a mask")]
    [InlineData("poolstart=192.0.2.20\npoolsize=none\nopt1=255.255.255.0\n", "poolsize must be a number")]
    [InlineData("poolstart=dhcp\npoolsize=1\nopt1=255.255.255.0\n", "is not an IPv4 address")]
    public void A_pool_that_cannot_be_translated_leaves_dhcp_off_and_says_why(string pool, string reason)
    {
        var result = ImportText("[dhcp]\nopt54=192.0.2.10\nfilename=undionly.kpxe\n" + pool);
        var options = Load(result.Yaml);
        Assert.Equal(DhcpMode.Off, options.Dhcp.Mode);
        Assert.Contains(result.NotTranslated, l => l.Contains("dhcp.mode stays off because", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void A_pool_running_past_the_subnet_ends_before_the_broadcast_address()
    {
        var options = Load(ImportText("[dhcp]\nopt54=192.0.2.10\npoolstart=192.0.2.250\npoolsize=50\nopt1=255.255.255.0\n").Yaml);
        var subnet = Assert.Single(options.Dhcp.Server.Subnets);
        Assert.Equal(IPAddress.Parse("192.0.2.254"), subnet.RangeEnd);
    }

    [Fact]
    public void Placeholders_become_templates_and_ip_is_refused_with_its_reason()
    {
        var result = ImportText("[dhcp]\nproxydhcp=1\nopt54=192.0.2.10\nfilename=boot/@MAC/@arch.kpxe\naltfilename=http://@opt54/x.php?ip=@ip\n");
        var options = Load(result.Yaml);
        Assert.Equal("boot/{{mac-hyphen}}/{{arch-code}}.kpxe", options.Dhcp.Boot.Files[0]);
        Assert.Equal("boot.ipxe", options.Dhcp.Boot.IpxeScript);
        Assert.Contains(result.NotTranslated, l => l.StartsWith("[dhcp] altfilename=http://@opt54/x.php?ip=@ip (line 5): @ip", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("it's a 'quoted' #name: {x} [y] \\ & * ! | > %")]
    [InlineData("- leading dash")]
    [InlineData("true")]
    [InlineData("007")]
    [InlineData("@at")]
    public void Values_with_yaml_syntax_survive_the_round_trip(string value)
    {
        var result = ImportText($"[dhcp]\nproxydhcp=1\nopt54=192.0.2.10\nfilename={value}\naltfilename={value}\n[map]\n{value}={value}\n");
        var options = Load(result.Yaml);
        Assert.Equal(value, options.Dhcp.Boot.Files[0]);
        var rule = Assert.Single(options.Tftp.Remap);
        Assert.Matches(new Regex(rule.Match), value);
    }

    [Fact]
    public void Relative_root_keeps_its_folders_with_slashes()
    {
        Assert.Equal("pxe/files", Load(ImportText("[dhcp]\nroot=pxe\\files\\\n").Yaml).Root);
    }

    [Fact]
    public void Tftpd_and_httpd_off_turn_the_servers_off()
    {
        var options = Load(ImportText("[dhcp]\ntftpd=0\nhttpd=0\n").Yaml);
        Assert.False(options.Tftp.Enabled);
        Assert.False(options.Http.Enabled);
    }

    [Fact]
    public void Repeated_key_uses_the_last_value_and_warns()
    {
        var result = ImportText("[dhcp]\nfilename=first.kpxe\nFILENAME=second.kpxe\n");
        Assert.Equal("second.kpxe", Load(result.Yaml).Dhcp.Boot.Files[0]);
        Assert.Contains(result.Warnings, w => w.StartsWith("line 3: [dhcp] FILENAME repeats line 2", StringComparison.Ordinal));
        Assert.Contains("# warning: line 3:", result.Yaml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData('\u2028')]
    [InlineData('\u2029')]
    public void A_line_separator_in_an_ini_value_cannot_inject_yaml(char separator)
    {
        // YamlDotNet ends a line at U+2028 and U+2029 (and U+0085, which the ini reader refuses as a control
        // character): written raw, the value would end the "# from [dhcp] filename=..." comment above it.
        var value = $"undionly.kpxe{separator}root: /etc";
        var result = ImportText($"[dhcp]\nfilename={value}\n");

        var options = Load(result.Yaml);

        Assert.NotEqual("/etc", options.Root);
        Assert.Equal(value, options.Dhcp.Boot.Files[ClientArchitecture.BiosX86]);
    }

    [Theory]
    [InlineData('\u0085')]
    [InlineData('\u2028')]
    [InlineData('\u2029')]
    [InlineData('\r')]
    [InlineData('\n')]
    public void Yaml_text_keeps_line_breaks_out_of_comments_and_escapes_them_in_scalars(char lineBreak)
    {
        var map = new YamlMap();
        map.Set("data-dir", YamlScalar.Quoted($"a{lineBreak}root: /etc 'x' \"y\" \\z"), $"from a{lineBreak}root: /etc");
        var text = new StringBuilder();
        map.Write(text, 0);

        var options = Load(text.ToString());

        Assert.Equal("boot", options.Root);
        Assert.Equal($"a{lineBreak}root: /etc 'x' \"y\" \\z", options.DataDirectory);
    }
}
