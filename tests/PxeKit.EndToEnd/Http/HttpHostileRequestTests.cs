using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>Request targets and framing a hostile client sends byte for byte (hostile-inputs H4, H6, H7, H9); each
/// test ends with a legitimate request that must still be served.</summary>
public sealed class HttpHostileRequestTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(5);
    private PxeKitProcess Server => fixture.Server;

    /// <summary>
    /// Kestrel decodes %XX (not %2F), removes dot segments, and rejects %00, relative targets and an absolute-form
    /// target whose authority is not the Host header itself (400, before PxeKit sees them); what reaches PxeKit is mapped by the boot file system, which refuses ".." after backslashes
    /// become slashes, and links out of the root (400, logged as "HTTP refused"). Neither ever serves secret.txt,
    /// which sits beside the root. <paramref name="logged"/> is the line PxeKit writes, or null when Kestrel answered.
    /// </summary>
    [Theory]
    [InlineData("/../secret.txt", 404, "'/secret.txt' not found")]
    [InlineData("/../../../../etc/passwd", 404, "'/etc/passwd' not found")]
    [InlineData("/%2e%2e/secret.txt", 404, "'/secret.txt' not found")]
    [InlineData("/%252e%252e/secret.txt", 404, "'/%2e%2e/secret.txt' not found")]
    [InlineData("/..%2fsecret.txt", 404, "'/..%2fsecret.txt' not found")]
    [InlineData("/sub/..%2f..%2fsecret.txt", 404, "'/sub/..%2f..%2fsecret.txt' not found")]
    [InlineData("/..%5csecret.txt", 400, "HTTP refused 127.0.0.1 '/..\\secret.txt': path '/..\\secret.txt' leaves the boot root")]
    [InlineData("/..\\secret.txt", 400, "HTTP refused 127.0.0.1 '/..\\secret.txt': path '/..\\secret.txt' leaves the boot root")]
    [InlineData("/%2e%2e%5csecret.txt", 400, "HTTP refused 127.0.0.1 '/..\\secret.txt': path '/..\\secret.txt' leaves the boot root")]
    [InlineData("/sub\\..\\..\\secret.txt", 400, "HTTP refused 127.0.0.1 '/sub\\..\\..\\secret.txt': path '/sub\\..\\..\\secret.txt' leaves the boot root")]
    [InlineData("/%00", 400, null)]
    [InlineData("/small.bin%00", 400, null)]
    [InlineData("../secret.txt", 400, null)]
    [InlineData("http://127.0.0.1/../../etc/passwd", 404, "'/etc/passwd' not found")]
    [InlineData("http://127.0.0.1/../../secret.txt", 404, "'/secret.txt' not found")]
    [InlineData("http://x/../../secret.txt", 400, null)]
    [InlineData("/link-out.txt", 400, "HTTP refused 127.0.0.1 '/link-out.txt': 'link-out.txt' is a symbolic link to somewhere outside the boot root")]
    [InlineData("/linkdir/secret.txt", 400, "HTTP refused 127.0.0.1 '/linkdir/secret.txt': 'linkdir/secret.txt' is a symbolic link to somewhere outside the boot root")]
    public async Task Traversal_target_is_refused_and_nothing_outside_the_root_is_served(string target, int status, string? logged)
    {
        var response = await RawHttp.SendAsync(fixture.Port, "GET", target, Limit);

        Assert.True(response.Status == status, response.Describe());
        HttpServerFixture.AssertNothingFromOutsideTheRoot(response);
        if (logged is not null)
            Assert.True(await Server.WaitForOutputAsync(logged, LogWait), Server.Output);
        await fixture.AssertStillServesAsync();
    }

    /// <summary>A name never comes back as a header (PxeKit sends no Location or Content-Disposition), so CR/LF cannot
    /// split the response; a control character in the decoded name is refused and logged escaped, on one log line, so
    /// that it cannot forge the next one either.</summary>
    [Theory]
    [InlineData("/boot%0D%0AX-Injected:%20yes", 400, "HTTP refused 127.0.0.1 '/boot\\u000D\\u000AX-Injected: yes': name contains control character U+000D")]
    [InlineData("/x%0AX-Injected:%20yes", 400, "HTTP refused 127.0.0.1 '/x\\u000AX-Injected: yes': name contains control character U+000A")]
    [InlineData("/x%0D2026-01-01%2000:00:00%20info:%20forged", 400, "HTTP refused 127.0.0.1 '/x\\u000D2026-01-01 00:00:00 info: forged': name contains control character U+000D")]
    [InlineData("/%22%0D%0ALocation:%20http://evil/", 400, "HTTP refused 127.0.0.1 '/\"\\u000D\\u000ALocation: http://evil/': name contains control character U+000D")]
    [InlineData("/a%22b.bin", 404, "'/a\"b.bin' not found")]
    [InlineData("/a%27b.bin", 404, "'/a'b.bin' not found")]
    [InlineData("/%22quoted%22", 404, "'/\"quoted\"' not found")]
    public async Task Crlf_and_quotes_in_the_name_inject_no_header(string target, int status, string logged)
    {
        var response = await RawHttp.SendAsync(fixture.Port, "GET", target, Limit);

        Assert.True(response.Status == status, response.Describe());
        Assert.False(response.HasHeader("X-Injected"), response.Describe());
        Assert.False(response.HasHeader("Location"), response.Describe());
        Assert.False(response.HasHeader("Content-Disposition"), response.Describe());
        Assert.DoesNotContain("\r\nX-Injected", response.WireText, StringComparison.OrdinalIgnoreCase);
        Assert.True(await Server.WaitForOutputAsync(logged, LogWait), Server.Output);
        Assert.All(Server.Output.Split('\n').Where(line => line.Contains("X-Injected", StringComparison.Ordinal) ||
            line.Contains("Location:", StringComparison.Ordinal) || line.Contains("forged", StringComparison.Ordinal)),
            line => Assert.Contains("HTTP refused 127.0.0.1 '/", line, StringComparison.Ordinal));
        await fixture.AssertStillServesAsync();
    }

    /// <summary>CVE-2025-55315: a chunk extension ending in a bare LF lets a front proxy and Kestrel disagree on where
    /// the body ends, so the "body" can carry a second request. A boot server's GET carries no body: it is refused
    /// before anything is served, and the smuggled request never gets an answer.</summary>
    [Fact]
    public async Task Chunked_request_with_a_bare_lf_in_a_chunk_extension_is_400_and_smuggles_nothing()
    {
        const string smuggled = "GET /boot/bcd HTTP/1.1\r\nHost: x\r\n\r\n";
        var request = "GET /small.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "1;ext\nx\r\n" + smuggled.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n" + smuggled + "\r\n0\r\n\r\n" +
            smuggled;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var wire = await RawHttp.ExchangeAsync(fixture.Port, Encoding.ASCII.GetBytes(request), TimeSpan.FromSeconds(10));

        var response = RawHttp.Parse(wire);
        Assert.True(response.Status == 400, response.Describe());
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the connection stayed open {clock.Elapsed}");
        var text = Encoding.Latin1.GetString(wire);
        Assert.Equal(1, CountOf(text, "HTTP/1.1 "));
        Assert.True(await Server.WaitForOutputAsync("HTTP refused 127.0.0.1 '/small.bin': a GET or HEAD with a request body", LogWait), Server.Output);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Request_with_a_content_length_body_is_400_and_the_connection_closes()
    {
        const string smuggled = "GET /boot/bcd HTTP/1.1\r\nHost: x\r\n\r\n";
        var request = $"GET /small.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {smuggled.Length}\r\n\r\n{smuggled}";

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var wire = await RawHttp.ExchangeAsync(fixture.Port, Encoding.ASCII.GetBytes(request), TimeSpan.FromSeconds(10));

        var response = RawHttp.Parse(wire);
        Assert.True(response.Status == 400, response.Describe());
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the connection stayed open {clock.Elapsed}");
        Assert.Equal(1, CountOf(Encoding.Latin1.GetString(wire), "HTTP/1.1 "));
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Get_with_an_empty_content_length_is_served()
    {
        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit, "Content-Length: 0");

        Assert.True(response.Status == 200, response.Describe());
        Assert.Equal(HttpServerFixture.Small, response.Body);
    }

    [Fact]
    public async Task Two_pipelined_gets_on_one_connection_are_both_served()
    {
        const string get = "GET /boot/bcd HTTP/1.1\r\nHost: x\r\n\r\n";
        var request = get + "GET /small.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        var wire = await RawHttp.ExchangeAsync(fixture.Port, Encoding.ASCII.GetBytes(request), TimeSpan.FromSeconds(10));

        var responses = RawHttp.ParseSequence(wire);
        Assert.Equal([200, 200], responses.Select(r => r.Status));
        Assert.Equal(HttpServerFixture.Bcd, responses[0].Body);
        Assert.Equal(HttpServerFixture.Small, responses[1].Body);
    }

    [Fact]
    public async Task Http2_prior_knowledge_fails_and_http_1_1_still_works()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var url = new Uri(Server.HttpBase, "small.bin").ToString();

        var http2 = await ExternalTool.RunAsync(curl, ["-sS", "--http2-prior-knowledge", "-o", "/dev/null", url], Limit);
        var upgrade = await ExternalTool.RunAsync(curl, ["-sS", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", url], Limit);
        var http11 = await ExternalTool.RunAsync(curl, ["-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", url], Limit);

        // curl 52: "Empty reply from server"; Kestrel closes a connection that opens with the HTTP/2 preface.
        Assert.True(http2.ExitCode != 0, http2.Describe());
        Assert.True(upgrade.ExitCode == 0, upgrade.Describe());
        Assert.Equal("200 1.1", upgrade.StandardOutput);
        Assert.True(http11.ExitCode == 0, http11.Describe());
        Assert.Equal("200 1.1", http11.StandardOutput);
        await fixture.AssertStillServesAsync();
    }

    private static int CountOf(string text, string fragment)
    {
        var count = 0;
        for (var i = text.IndexOf(fragment, StringComparison.Ordinal); i >= 0; i = text.IndexOf(fragment, i + 1, StringComparison.Ordinal))
            count++;
        return count;
    }
}
