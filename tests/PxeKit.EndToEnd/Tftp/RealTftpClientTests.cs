using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Tftp;

/// <summary>Debian's TFTP clients against the real pxekit process.</summary>
public sealed class RealTftpClientTests(TftpServerFixture fixture) : IClassFixture<TftpServerFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string _scratch = Directory.CreateTempSubdirectory("pxekit-client-").FullName;
    private PxeKitProcess Server => fixture.Server;
    private string Port => Server.TftpPort.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Tftp_hpa_client_downloads_byte_exact()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var target = Path.Combine(_scratch, "small.bin");

        var result = await ExternalTool.RunAsync(tftp, ["127.0.0.1", Port, "-m", "binary", "-c", "get", "small.bin", target], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(TftpServerFixture.Small, await File.ReadAllBytesAsync(target));
    }

    [Fact]
    public async Task Tftp_hpa_client_gets_a_windows_style_path_mapped_to_the_lowercase_file()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var target = Path.Combine(_scratch, "bcd");

        var result = await ExternalTool.RunAsync(tftp, ["127.0.0.1", Port, "-m", "binary", "-c", "get", "\\Boot\\BCD", target], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(TftpServerFixture.Small, await File.ReadAllBytesAsync(target));
        Assert.True(await Server.WaitForOutputAsync("serving 'boot/bcd' (matched ignoring letter case)", TimeSpan.FromSeconds(5)), Server.Output);
    }

    [Fact]
    public async Task Tftp_hpa_client_in_netascii_mode_gets_the_text_back_as_it_was()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var target = Path.Combine(_scratch, "menu.txt");

        var result = await ExternalTool.RunAsync(tftp, ["127.0.0.1", Port, "-m", "ascii", "-c", "get", "menu.txt", target], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Server.Root, "menu.txt")), await File.ReadAllTextAsync(target));
    }

    [Fact]
    public async Task Atftp_is_granted_windowsize_16_and_downloads_byte_exact()
    {
        var atftp = ExternalTool.Require("atftp", "atftp");
        var target = Path.Combine(_scratch, "large.bin");

        var result = await ExternalTool.RunAsync(atftp,
            ["--option", "windowsize 16", "--option", "blksize 1468", "--trace", "-g", "-r", "large.bin", "-l", target, "127.0.0.1", Port], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        var trace = result.StandardOutput + result.StandardError;
        Assert.Matches("received OACK <.*windowsize: 16", trace);
        Assert.Matches("received OACK <.*blksize: 1468", trace);
        Assert.Equal(TftpServerFixture.Large, await File.ReadAllBytesAsync(target));
        Assert.True(await Server.WaitForOutputAsync("blksize 1468, windowsize 16", TimeSpan.FromSeconds(5)), Server.Output);
    }

    [Theory]
    [InlineData(512)]
    [InlineData(1468)]
    public async Task Curl_downloads_byte_exact_at_blksize(int blockSize)
    {
        var curl = ExternalTool.Require("curl", "curl");
        var target = Path.Combine(_scratch, $"small-{blockSize}.bin");

        var result = await ExternalTool.RunAsync(curl,
            ["-sS", "--tftp-blksize", blockSize.ToString(CultureInfo.InvariantCulture), "-o", target, $"tftp://127.0.0.1:{Port}/small.bin"], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(TftpServerFixture.Small, await File.ReadAllBytesAsync(target));
    }

    [Fact]
    public async Task File_of_more_than_65535_blocks_at_blksize_512_arrives_byte_exact()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var target = Path.Combine(_scratch, "large-512.bin");

        var result = await ExternalTool.RunAsync(curl,
            ["-sS", "--tftp-blksize", "512", "-o", target, $"tftp://127.0.0.1:{Port}/large.bin"], Limit);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Equal(TftpServerFixture.Large.Length, new FileInfo(target).Length);
        Assert.Equal(TftpServerFixture.Large, await File.ReadAllBytesAsync(target));
    }

    [Fact]
    public async Task Fifty_concurrent_transfers_are_all_byte_exact()
    {
        var atftp = ExternalTool.Require("atftp", "atftp");
        var runs = Enumerable.Range(0, 50).Select(async i =>
        {
            var target = Path.Combine(_scratch, $"c{i}.bin");
            string[] options = i % 2 == 0 ? ["--option", "blksize 1468", "--option", "windowsize 8"] : [];
            var result = await ExternalTool.RunAsync(atftp, [.. options, "-g", "-r", "small.bin", "-l", target, "127.0.0.1", Port], Limit);
            return (result, target);
        }).ToList();

        foreach (var (result, target) in await Task.WhenAll(runs))
        {
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.Equal(TftpServerFixture.Small, await File.ReadAllBytesAsync(target));
        }
    }

    [Fact]
    public async Task Missing_file_is_an_error_the_client_shows_and_the_log_explains()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");

        var result = await ExternalTool.RunAsync(tftp, ["127.0.0.1", Port, "-m", "binary", "-c", "get", "pxelinux.0", Path.Combine(_scratch, "x")], Limit);

        Assert.Contains("File not found", result.StandardOutput + result.StandardError, StringComparison.OrdinalIgnoreCase);
        Assert.True(await Server.WaitForOutputAsync("'pxelinux.0': 'pxelinux.0' does not exist under", TimeSpan.FromSeconds(5)), Server.Output);
    }
}
