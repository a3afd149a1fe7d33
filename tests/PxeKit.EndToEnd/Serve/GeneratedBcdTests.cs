using PxeKit.EndToEnd.Infrastructure;
using PxeKit.Formats.Bcd;

namespace PxeKit.EndToEnd.Serve;

/// <summary>A BCD built by the server from a recipe reaches a Windows-style TFTP request and an HTTP client, and
/// hivex reads it as the store the recipe describes.</summary>
public sealed class GeneratedBcdTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("pxekit-genbcd-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Server_builds_the_winpe_store_and_serves_it_to_tftp_and_http()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var hivexsh = ExternalTool.Require("hivexsh", "libhivex-bin");
        await using var server = await PxeKitProcess.StartAsync(
            "bcd:\n  - path: boot/bcd\n    recipe: winpe\n  - path: efi/boot/bcd\n    recipe: winpe\n    uefi: true\n");
        var target = Path.Combine(_scratch, "BCD");

        var result = await ExternalTool.RunAsync(tftp,
            ["127.0.0.1", server.TftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "binary", "-c", "get", "\\Boot\\BCD", target],
            TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Describe());
        var expected = BcdRecipes.WinPe(new WinPeBcdOptions());
        Assert.Equal(expected, await File.ReadAllBytesAsync(target));
        var hive = await ExternalTool.RunAsync(hivexsh, [target], TimeSpan.FromSeconds(30),
            standardInput: "cd \\Objects\\{7619dcc9-fafe-11d9-b411-000476eba25f}\\Elements\\12000002\nlsval\n");
        Assert.Contains("winload.exe", hive.StandardOutput, StringComparison.OrdinalIgnoreCase);

        using var http = new HttpClient();
        var efi = await http.GetByteArrayAsync(new Uri(server.HttpBase, "EFI/Boot/BCD"));
        Assert.Equal(BcdRecipes.WinPe(new WinPeBcdOptions { Firmware = BcdFirmware.Uefi }), efi);
        Assert.Contains("BCD   boot/bcd: generated (winpe, BIOS)", server.Output, StringComparison.Ordinal);
    }
}
