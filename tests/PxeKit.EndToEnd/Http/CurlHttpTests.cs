using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>curl, an HTTP client we did not write, against the real pxekit process.</summary>
public sealed class CurlHttpTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _scratch = Directory.CreateTempSubdirectory("pxekit-curl-").FullName;
    private PxeKitProcess Server => fixture.Server;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private sealed record CurlResult(int Status, string Headers, byte[] Body, ExternalTool.Result Run);

    /// <summary>Runs curl with <paramref name="arguments"/> before the URL of <paramref name="path"/> (sent as written).</summary>
    private async Task<CurlResult> CurlAsync(string path, params string[] arguments)
    {
        var curl = ExternalTool.Require("curl", "curl");
        var body = Path.Combine(_scratch, Guid.NewGuid().ToString("n"));
        var headers = body + ".headers";
        var run = await ExternalTool.RunAsync(curl,
            ["-sS", "--path-as-is", "-D", headers, "-o", body, "-w", "%{http_code}", .. arguments, $"http://127.0.0.1:{Server.HttpPort}{path}"], Limit);
        Assert.True(run.ExitCode == 0, run.Describe());
        return new CurlResult(int.Parse(run.StandardOutput, CultureInfo.InvariantCulture),
            File.Exists(headers) ? await File.ReadAllTextAsync(headers) : "",
            File.Exists(body) ? await File.ReadAllBytesAsync(body) : [], run);
    }

    private static string? HeaderValue(string headers, string name) =>
        headers.Split("\r\n").Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();

    [Fact]
    public async Task Get_of_a_multi_megabyte_file_is_byte_exact()
    {
        var result = await CurlAsync("/large.bin");

        Assert.Equal(200, result.Status);
        Assert.Equal(HttpServerFixture.Large.Length.ToString(CultureInfo.InvariantCulture), HeaderValue(result.Headers, "Content-Length"));
        Assert.Equal(HttpServerFixture.Large, result.Body);
        Assert.True(await Server.WaitForOutputAsync($"GET large.bin: 200, {HttpServerFixture.Large.Length} bytes", TimeSpan.FromSeconds(5)), Server.Output);
    }

    [Fact]
    public async Task Head_gives_length_and_type_and_no_body()
    {
        var result = await CurlAsync("/large.bin", "-I");

        Assert.Equal(200, result.Status);
        Assert.Equal(HttpServerFixture.Large.Length.ToString(CultureInfo.InvariantCulture), HeaderValue(result.Headers, "Content-Length"));
        Assert.Equal("application/octet-stream", HeaderValue(result.Headers, "Content-Type"));

        // curl does not read a body after HEAD; the wire does not lie about whether one was sent.
        var raw = await RawHttp.SendAsync(Server.HttpPort, "HEAD", "/large.bin");
        Assert.Equal(200, raw.Status);
        Assert.Equal(HttpServerFixture.Large.Length.ToString(CultureInfo.InvariantCulture), raw.Header("Content-Length"));
        Assert.Empty(raw.Body);
    }

    [Fact]
    public async Task Head_of_an_ipxe_script_says_text()
    {
        var result = await CurlAsync("/boot.ipxe", "-I");

        Assert.Equal(200, result.Status);
        Assert.Equal("text/plain; charset=utf-8", HeaderValue(result.Headers, "Content-Type"));
    }

    [Fact]
    public async Task Single_range_gives_206_with_content_range_and_exact_bytes()
    {
        var result = await CurlAsync("/large.bin", "-r", "100-199");

        Assert.Equal(206, result.Status);
        Assert.Equal($"bytes 100-199/{HttpServerFixture.Large.Length}", HeaderValue(result.Headers, "Content-Range"));
        Assert.Equal("100", HeaderValue(result.Headers, "Content-Length"));
        Assert.Equal(HttpServerFixture.Large[100..200], result.Body);
    }

    [Fact]
    public async Task Suffix_range_gives_the_last_bytes()
    {
        var length = HttpServerFixture.Large.Length;

        var result = await CurlAsync("/large.bin", "-r", "-500");

        Assert.Equal(206, result.Status);
        Assert.Equal($"bytes {length - 500}-{length - 1}/{length}", HeaderValue(result.Headers, "Content-Range"));
        Assert.Equal(HttpServerFixture.Large[^500..], result.Body);
    }

    [Theory]
    [InlineData("/\\Boot\\BCD")]
    [InlineData("/%5CBoot%5CBCD")]
    [InlineData("/Boot/BCD")]
    [InlineData("/BOOT/bcd")]
    public async Task Windows_style_and_other_letter_case_names_serve_the_lowercase_file(string path)
    {
        var result = await CurlAsync(path);

        Assert.Equal(200, result.Status);
        Assert.Equal(HttpServerFixture.Bcd, result.Body);
        Assert.True(await Server.WaitForOutputAsync("serving 'boot/bcd' (matched ignoring letter case)", TimeSpan.FromSeconds(5)), Server.Output);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/sub")]
    [InlineData("/sub/")]
    [InlineData("/boot/")]
    [InlineData("/boot/..")]
    public async Task Directories_and_the_root_are_404_never_a_listing(string path)
    {
        var result = await CurlAsync(path);

        Assert.Equal(404, result.Status);
        var body = System.Text.Encoding.Latin1.GetString(result.Body);
        Assert.DoesNotContain("inside.bin", body, StringComparison.Ordinal);
        Assert.DoesNotContain("small.bin", body, StringComparison.Ordinal);
        Assert.DoesNotContain("bcd", body, StringComparison.OrdinalIgnoreCase);
        await fixture.AssertStillServesAsync();
    }
}
