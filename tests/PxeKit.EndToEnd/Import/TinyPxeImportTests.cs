using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Import;

/// <summary>
/// Issue 5 end to end: the real <c>pxekit import tinypxe</c> turns a config.ini into pxekit.yaml, the real
/// <c>pxekit serve</c> starts with that file, and tftp-hpa's client fetches a file through a translated [map] rule.
/// </summary>
public sealed class TinyPxeImportTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("pxekit-tinypxe-e2e-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Imported_config_starts_the_server_and_a_mapped_name_is_served_over_tftp()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        // Hand-written, modelled on the proxyDHCP configurations in TestData/TinyPxe (see its README).
        var ini = Path.Combine(_scratch, "config.ini");
        await File.WriteAllTextAsync(ini,
            "[dhcp]\r\nproxydhcp=1\r\nopt54=127.0.0.1\r\nroot=C:\\pxesrv\\files\r\nfilename=undionly.kpxe\r\naltfilename=menu.ipxe\r\n"
            + "[map]\r\n\\boot\\bcd=\\bcd\r\n[frmDHCPServer]\r\ntop=1\r\n");
        var yamlPath = Path.Combine(_scratch, "pxekit.yaml");

        var import = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "import", "tinypxe", ini, "--output", yamlPath], TimeSpan.FromSeconds(60));

        Assert.True(import.ExitCode == 0, import.Describe());
        Assert.Contains(@"not translated: [dhcp] root=C:\pxesrv\files (line 4)", import.StandardError, StringComparison.Ordinal);
        var yaml = await File.ReadAllTextAsync(yamlPath);
        Assert.Contains("mode: proxy", yaml, StringComparison.Ordinal);

        // The test picks the ports, the root and loopback; DHCP stays off so no port 67 is taken on this machine.
        var store = PxeKitProcess.RandomBytes(20_000, seed: 5);
        await using var server = await PxeKitProcess.StartAsync(yaml, root => File.WriteAllBytes(Path.Combine(root, "bcd"), store), "--dhcp", "off");
        var target = Path.Combine(_scratch, "BCD");

        var get = await ExternalTool.RunAsync(tftp,
            ["127.0.0.1", server.TftpPort.ToString(CultureInfo.InvariantCulture), "-m", "binary", "-c", "get", @"\Boot\BCD", target],
            TimeSpan.FromSeconds(60));

        Assert.True(get.ExitCode == 0, get.Describe() + "\n" + server.Output);
        Assert.Equal(store, await File.ReadAllBytesAsync(target));
    }
}
