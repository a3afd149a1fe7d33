using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Boot;

/// <summary>
/// Files the boot policy makes or fills in, fetched from the real <c>pxekit serve</c> by curl-like HTTP and by
/// tftp-hpa: template files with the client's facts, generated pxelinux configurations, and the WinPE BCD stores
/// a wimboot entry without <c>bcd:</c> gets.
/// </summary>
public sealed class BootPolicyFileTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _scratch = Directory.CreateTempSubdirectory("pxekit-policy-files-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private const string Yaml = """
        boot:
          default: lab
          templates: ["*.ipxe.tmpl", "preseed/*.cfg"]
          entries:
            installer: {kind: linux, title: Installer, kernel: debian/linux, initrd: [debian/initrd.gz, extra.img], args: "auto url={{http-url}}/preseed/node.cfg"}
            rescue: {kind: linux, title: Rescue, kernel: vmlinuz, args: rescue}
            winpe: {kind: wimboot, title: WinPE, boot-wim: sources/boot.wim}
            legacy: {kind: pxelinux, title: Legacy menu, menu: tools}
            disk: {kind: local, title: Local disk}
          menus:
            lab:
              title: Lab
              timeout: 5s
              default: installer
              items: [installer, rescue, winpe, legacy]
            tools:
              title: Tools
              default: rescue
              items: [rescue, {separator: Or}, disk]
          clients:
            - {mac: "52:54:00:aa:bb:cc", name: ws01, boot: rescue}
        """;

    private const string Template = "mac={{mac}} hyphen={{mac-hyphen}} server={{server}} url={{http-url}} host={{hostname}} arch={{arch}}\n";

    private static void Templates(string root)
    {
        File.WriteAllText(Path.Combine(root, "menu.ipxe.tmpl"), Template);
        Directory.CreateDirectory(Path.Combine(root, "preseed"));
        File.WriteAllText(Path.Combine(root, "preseed", "node.cfg"), "d-i netcfg/get_hostname string pc-{{mac-hex}}\n");
        File.WriteAllText(Path.Combine(root, "plain.ipxe"), Template);
    }

    [Fact]
    public async Task A_template_file_over_http_is_filled_with_the_facts_of_the_client_in_the_query()
    {
        await using var server = await PxeKitProcess.StartAsync(Yaml, Templates);

        var filled = await BootScriptHttpTests.GetAsync(server, "/menu.ipxe.tmpl?mac=52-54-00-AA-BB-CC&platform=efi&buildarch=x86_64");
        var preseed = await BootScriptHttpTests.GetAsync(server, "/preseed/node.cfg?mac=52:54:00:12:34:56");
        var plain = await BootScriptHttpTests.GetAsync(server, "/plain.ipxe?mac=52:54:00:12:34:56");

        Assert.Equal((200, 200, 200), (filled.Status, preseed.Status, plain.Status));
        Assert.Equal($"mac=52:54:00:aa:bb:cc hyphen=52-54-00-aa-bb-cc server=127.0.0.1 url=http://127.0.0.1:{server.HttpPort} host=ws01 arch=efi-x64\n",
            BootScriptHttpTests.Body(filled));
        Assert.Equal("no-store", filled.Header("Cache-Control"));
        Assert.Equal("d-i netcfg/get_hostname string pc-525400123456\n", BootScriptHttpTests.Body(preseed));
        Assert.Equal(Template, BootScriptHttpTests.Body(plain)); // not matched by boot.templates: served as written
        Assert.True(await server.WaitForOutputAsync("Template menu.ipxe.tmpl rendered for 52:54:00:aa:bb:cc at 127.0.0.1", TimeSpan.FromSeconds(5)), server.Output);
    }

    [Fact]
    public async Task A_template_file_over_tftp_is_filled_for_the_client_its_address_belongs_to()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        await using var server = await PxeKitProcess.StartAsync(Yaml, Templates);
        // As iPXE does before it fetches anything over TFTP: its script request tells the server who 127.0.0.1 is.
        var script = await BootScriptHttpTests.GetAsync(server, "/boot.ipxe?mac=52:54:00:aa:bb:cc&platform=pcbios&buildarch=i386");
        Assert.Equal(200, script.Status);

        var target = Path.Combine(_scratch, "menu.ipxe");
        var result = await TftpGetAsync(tftp, server, "menu.ipxe.tmpl", target);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal($"mac=52:54:00:aa:bb:cc hyphen=52-54-00-aa-bb-cc server=127.0.0.1 url=http://127.0.0.1:{server.HttpPort} host=ws01 arch=bios\n",
            await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task A_template_over_one_mebibyte_is_refused_with_a_logged_reason_over_http_and_tftp_alike()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var big = "#!ipxe\necho {{mac}}\n" + new string('#', 1 << 20);
        await using var server = await PxeKitProcess.StartAsync(Yaml, root =>
        {
            File.WriteAllText(Path.Combine(root, "big.ipxe.tmpl"), big);
            File.WriteAllText(Path.Combine(root, "small.ipxe.tmpl"), "#!ipxe\necho {{mac}}\n");
        });

        var http = await BootScriptHttpTests.GetAsync(server, "/big.ipxe.tmpl?mac=52:54:00:12:34:56");
        var target = Path.Combine(_scratch, "big.ipxe");
        var result = await TftpGetAsync(tftp, server, "big.ipxe.tmpl", target);

        Assert.Equal(500, http.Status);
        Assert.DoesNotContain("echo", http.WireText, StringComparison.Ordinal);
        Assert.Contains("template cannot be served", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(target) && new FileInfo(target).Length > 0, "TFTP sent the unfilled template");
        var reason = $"it matches boot.templates but is {big.Length} bytes, over the 1048576-byte limit for templates";
        Assert.True(await server.WaitForOutputAsync($"warn: PxeKit.Boot[3204] Template big.ipxe.tmpl not served to 127.0.0.1: {reason}", TimeSpan.FromSeconds(5)), server.Output);
        Assert.True(await server.WaitForOutputAsync($"warn: PxeKit.Server.Hosting.TftpBootFiles[3204] Template big.ipxe.tmpl not served to 127.0.0.1: {reason}", TimeSpan.FromSeconds(5)), server.Output);
        var small = await BootScriptHttpTests.GetAsync(server, "/small.ipxe.tmpl?mac=52:54:00:12:34:56");
        Assert.Equal("#!ipxe\necho 52:54:00:12:34:56\n", BootScriptHttpTests.Body(small));
    }

    [Fact]
    public async Task Pxelinux_gets_the_config_for_its_mac_over_tftp_with_the_label_of_its_entry()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        await using var server = await PxeKitProcess.StartAsync(Yaml);

        var overridden = await TftpTextAsync(tftp, server, "pxelinux.cfg/01-52-54-00-aa-bb-cc");
        var everyoneElse = await TftpTextAsync(tftp, server, "pxelinux.cfg/01-52-54-00-12-34-56");

        Assert.Equal("# PxeKit: 52:54:00:aa:bb:cc: entry 'rescue' (client ws01 (52:54:00:aa:bb:cc))\nDEFAULT rescue\n\n"
            + "LABEL rescue\n  MENU LABEL Rescue\n  KERNEL /vmlinuz\n  APPEND rescue\n", overridden);
        Assert.StartsWith("# PxeKit: 52:54:00:12:34:56: menu 'lab' (default)\nUI menu.c32\nMENU TITLE Lab\nDEFAULT installer\nTIMEOUT 50\n", everyoneElse, StringComparison.Ordinal);
        Assert.Contains("\nLABEL installer\n  MENU LABEL Installer\n  KERNEL /debian/linux\n  INITRD /debian/initrd.gz,/extra.img\n"
            + $"  APPEND auto url=http://127.0.0.1:{server.HttpPort}/preseed/node.cfg\n", everyoneElse, StringComparison.Ordinal);
        Assert.Contains("\n# winpe: a wimboot entry cannot run under pxelinux (boot it through iPXE)\n", everyoneElse, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pxelinux_default_and_a_pxelinux_entrys_own_menu_are_generated_over_tftp()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        await using var server = await PxeKitProcess.StartAsync(Yaml);

        var fallback = await TftpTextAsync(tftp, server, "pxelinux.cfg/default");
        var entry = await TftpTextAsync(tftp, server, "pxelinux.cfg/pxekit-legacy");

        Assert.Contains("menu 'lab' (default)\nUI menu.c32\nMENU TITLE Lab\nDEFAULT installer\n", fallback, StringComparison.Ordinal);
        Assert.Contains("\nLABEL rescue\n  MENU LABEL Rescue\n  KERNEL /vmlinuz\n  APPEND rescue\n", fallback, StringComparison.Ordinal);
        Assert.Contains("menu 'tools' (entry 'legacy')\nUI menu.c32\nMENU TITLE Tools\nDEFAULT rescue\nTIMEOUT 0\n", entry, StringComparison.Ordinal);
        Assert.Contains("\nMENU SEPARATOR\nLABEL -\n  MENU LABEL Or\n  MENU DISABLE\n", entry, StringComparison.Ordinal);
        Assert.EndsWith("\nLABEL disk\n  MENU LABEL Local disk\n  LOCALBOOT 0\n", entry, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pxelinux_default_file_in_the_root_wins_over_the_generated_one()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        const string own = "DEFAULT mine\nLABEL mine\n  KERNEL /mine\n";
        await using var server = await PxeKitProcess.StartAsync(Yaml, root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "pxelinux.cfg"));
            File.WriteAllText(Path.Combine(root, "pxelinux.cfg", "default"), own);
        });

        Assert.Equal(own, await TftpTextAsync(tftp, server, "pxelinux.cfg/default"));
        // Other names in the same directory are still generated.
        Assert.StartsWith("# PxeKit: 52:54:00:aa:bb:cc: entry 'rescue'", await TftpTextAsync(tftp, server, "pxelinux.cfg/01-52-54-00-aa-bb-cc"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pxekit/winpe-bios.bcd", "winload.exe")]
    [InlineData("pxekit/winpe-uefi.bcd", "winload.efi")]
    public async Task A_wimboot_entry_without_a_bcd_gets_a_generated_winpe_store_over_http_and_tftp(string path, string loader)
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var hivexsh = ExternalTool.Require("hivexsh", "libhivex-bin");
        await using var server = await PxeKitProcess.StartAsync(Yaml);

        using var http = new HttpClient();
        var overHttp = await http.GetByteArrayAsync(new Uri(server.HttpBase, path));
        var target = Path.Combine(_scratch, "BCD");
        var result = await TftpGetAsync(tftp, server, path, target);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(overHttp, await File.ReadAllBytesAsync(target));
        var root = await ExternalTool.RunAsync(hivexsh, [target], Limit, standardInput: "ls\n");
        var objects = await ExternalTool.RunAsync(hivexsh, [target], Limit, standardInput: "cd \\Objects\nls\n");
        Assert.True(root.ExitCode == 0 && objects.ExitCode == 0, root.Describe() + objects.Describe());
        Assert.Equal(["Description", "Objects"], Lines(root.StandardOutput));
        // The Windows Boot Manager and the WinPE loader it starts.
        Assert.Contains("{9dea862c-5cdd-4e70-acc1-f32b344d4795}", Lines(objects.StandardOutput));
        Assert.Contains("{7619dcc9-fafe-11d9-b411-000476eba25f}", Lines(objects.StandardOutput));
        var application = await ExternalTool.RunAsync(hivexsh, [target], Limit,
            standardInput: "cd \\Objects\\{7619dcc9-fafe-11d9-b411-000476eba25f}\\Elements\\12000002\nlsval\n");
        Assert.Contains(loader, application.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<ExternalTool.Result> TftpGetAsync(string tftp, PxeKitProcess server, string name, string target) =>
        ExternalTool.RunAsync(tftp, ["127.0.0.1", server.TftpPort.ToString(CultureInfo.InvariantCulture), "-m", "binary", "-c", "get", name, target], Limit);

    private async Task<string> TftpTextAsync(string tftp, PxeKitProcess server, string name)
    {
        var target = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        var result = await TftpGetAsync(tftp, server, name, target);
        Assert.True(result.ExitCode == 0 && File.Exists(target), result.Describe());
        return await File.ReadAllTextAsync(target);
    }
}
