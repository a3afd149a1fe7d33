using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Serve;

/// <summary>What a sysadmin sees on a fresh machine: `pxekit serve` fills the root from Debian's ipxe package,
/// writes a default script, says what it serves, and never touches the admin's own files.</summary>
public sealed class FirstStartTests
{
    [Fact]
    public async Task First_start_copies_debians_ipxe_binaries_writes_a_script_and_prints_what_it_serves()
    {
        ExternalTool.Require("tftp", "tftp-hpa");
        Assert.True(File.Exists("/usr/lib/ipxe/undionly.kpxe"), "install Debian's 'ipxe' package");

        await using var server = await PxeKitProcess.StartAsync();

        foreach (var name in new[] { "undionly.kpxe", "ipxe.efi", "snponly.efi" })
            Assert.Equal(await File.ReadAllBytesAsync($"/usr/lib/ipxe/{name}"), await File.ReadAllBytesAsync(Path.Combine(server.Root, name)));
        var script = await File.ReadAllTextAsync(Path.Combine(server.Root, "boot.ipxe"));
        Assert.StartsWith("#!ipxe", script, StringComparison.Ordinal);
        Assert.Contains($"PxeKit 0.1.0 serving {server.Root}", server.Output, StringComparison.Ordinal);
        Assert.Contains($"TFTP  udp 127.0.0.1:{server.TftpPort}", server.Output, StringComparison.Ordinal);
        Assert.Contains($"HTTP  http://127.0.0.1:{server.HttpPort}/", server.Output, StringComparison.Ordinal);
        Assert.Contains("DHCP  off", server.Output, StringComparison.Ordinal);

        using var http = new HttpClient();
        Assert.Equal(script, await http.GetStringAsync(new Uri(server.HttpBase, "boot.ipxe")));
    }

    [Fact]
    public async Task Files_already_in_the_root_are_never_overwritten()
    {
        await using var server = await PxeKitProcess.StartAsync("", root =>
        {
            File.WriteAllText(Path.Combine(root, "boot.ipxe"), "#!ipxe\necho mine\n");
            File.WriteAllText(Path.Combine(root, "undionly.kpxe"), "my own build");
        });

        Assert.Equal("#!ipxe\necho mine\n", await File.ReadAllTextAsync(Path.Combine(server.Root, "boot.ipxe")));
        Assert.Equal("my own build", await File.ReadAllTextAsync(Path.Combine(server.Root, "undionly.kpxe")));
        Assert.True(File.Exists(Path.Combine(server.Root, "ipxe.efi")));
    }

    [Fact]
    public async Task A_mistake_in_the_configuration_stops_the_start_with_the_key_and_line()
    {
        var dir = Directory.CreateTempSubdirectory("pxekit-badconfig-").FullName;
        try
        {
            var config = Path.Combine(dir, "pxekit.yaml");
            await File.WriteAllTextAsync(config, "root: ./boot\ntftp:\n  windowsize: 16\n");
            var result = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "serve", "--config", config], TimeSpan.FromSeconds(60), workingDirectory: dir);

            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith("pxekit: pxekit.yaml line 3: unknown key 'tftp.windowsize'", result.StandardError, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(dir, "boot")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
