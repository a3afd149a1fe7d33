using System.Diagnostics;
using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>Hostile and odd Range headers (hostile-inputs H1-H3), each followed by a request that must still be served.</summary>
public sealed class HttpRangeTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private PxeKitProcess Server => fixture.Server;

    [Fact]
    public async Task Thousand_overlapping_ranges_get_the_whole_file_once_in_bounded_time()
    {
        var ranges = "bytes=" + string.Join(',', Enumerable.Repeat("0-", 1000));
        var clock = Stopwatch.StartNew();

        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/large.bin", Limit, "Range: " + ranges);

        // ASP.NET Core serves one range only; several ranges get the representation once, as a 200 (RFC 9110 §14.2
        // lets a server ignore Range). Apache's 2011 answer was 1000 copies of the file in multipart/byteranges.
        Assert.True(response.Status == 200, response.Describe());
        Assert.False(response.HasHeader("Content-Range"));
        Assert.Equal(HttpServerFixture.Large.Length.ToString(CultureInfo.InvariantCulture), response.Header("Content-Length"));
        Assert.Equal(HttpServerFixture.Large, response.Body);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        await fixture.AssertStillServesAsync();
    }

    /// <summary>
    /// What the server answers, each checked against RFC 9110 §14: a range it cannot parse or that is invalid may be
    /// ignored (200, §14.2); a last-pos past the end is clamped (§14.1.2); a range starting at or past the end, and
    /// the zero-length suffix, are unsatisfiable (416 with <c>bytes */length</c>, §14.1.1, §15.5.17); a suffix longer
    /// than the file means the whole file (§14.1.2); an unknown unit MUST be ignored (§14.2); and on an empty file the
    /// Range is ignored (§14.2 allows it; the one satisfiable range there has no Content-Range spelling).
    /// Ten thousand bytes in small.bin; <paramref name="from"/> and <paramref name="length"/> pick the expected body
    /// (length -1: the whole file).
    /// </summary>
    [Theory]
    [InlineData("bytes=0-18446744073709551615", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=18446744073709551615-", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=123456789012345678901234567890-", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=0-123456789012345678901234567890", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=-123456789012345678901234567890", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=0-9223372036854775807", "small.bin", 206, "bytes 0-9999/10000", 0, -1)]
    [InlineData("bytes=9223372036854775807-", "small.bin", 416, "bytes */10000", 0, 0)]
    [InlineData("bytes=0-99999999999", "small.bin", 206, "bytes 0-9999/10000", 0, -1)]
    [InlineData("bytes=5-2", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=abc", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=-0", "small.bin", 416, "bytes */10000", 0, 0)]
    [InlineData("bytes=-20000", "small.bin", 206, "bytes 0-9999/10000", 0, -1)]
    [InlineData("bytes=10000-", "small.bin", 416, "bytes */10000", 0, 0)]
    [InlineData("bytes=9999-", "small.bin", 206, "bytes 9999-9999/10000", 9999, 1)]
    [InlineData("bytes=0-0", "small.bin", 206, "bytes 0-0/10000", 0, 1)]
    [InlineData("items=0-5", "small.bin", 200, null, 0, -1)]
    [InlineData("bytes=0-", "empty.bin", 200, null, 0, 0)]
    [InlineData("bytes=0-0", "empty.bin", 200, null, 0, 0)]
    [InlineData("bytes=-5", "empty.bin", 200, null, 0, 0)]
    public async Task Odd_range_gets_the_answer_RFC_9110_gives_and_never_500(
        string range, string file, int status, string? contentRange, int from, int length)
    {
        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/" + file, Limit, "Range: " + range);

        Assert.True(response.Status == status, response.Describe());
        Assert.Equal(contentRange, response.Header("Content-Range"));
        var content = file == "empty.bin" ? [] : HttpServerFixture.Small;
        var expected = length < 0 ? content : content.AsSpan(from, length).ToArray();
        Assert.Equal(expected.Length.ToString(CultureInfo.InvariantCulture), response.Header("Content-Length"));
        Assert.Equal(expected, response.Body);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Range_above_4_GiB_of_a_5_GiB_file_returns_the_marker_bytes()
    {
        foreach (var (offset, marker) in HttpServerFixture.HugeMarkers)
        {
            var last = offset + marker.Length + 99; // 100 zero bytes past the marker, where the file is long enough
            last = Math.Min(last, HttpServerFixture.HugeLength - 1);
            var response = await RawHttp.SendAsync(fixture.Port, "GET", "/huge.img", Limit,
                string.Create(CultureInfo.InvariantCulture, $"Range: bytes={offset}-{last}"));

            Assert.True(response.Status == 206, response.Describe());
            Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{last}/{HttpServerFixture.HugeLength}"),
                response.Header("Content-Range"));
            Assert.Equal((last - offset + 1).ToString(CultureInfo.InvariantCulture), response.Header("Content-Length"));
            Assert.Equal(marker, response.Body[..marker.Length]);
            Assert.All(response.Body[marker.Length..], b => Assert.Equal(0, b));
        }
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task Curl_suffix_range_of_a_5_GiB_file_is_the_last_marker()
    {
        var curl = ExternalTool.Require("curl", "curl");
        var target = Path.GetTempFileName();
        try
        {
            var result = await ExternalTool.RunAsync(curl,
                ["-sS", "-r", "-16", "-D", "-", "-o", target, new Uri(Server.HttpBase, "huge.img").ToString()], Limit);

            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"Content-Range: bytes {HttpServerFixture.HugeLength - 16}-{HttpServerFixture.HugeLength - 1}/{HttpServerFixture.HugeLength}"),
                result.StandardOutput, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(HttpServerFixture.HugeMarkers[^1].Bytes, await File.ReadAllBytesAsync(target));
        }
        finally
        {
            File.Delete(target);
        }
    }

    [Fact]
    public async Task Head_of_a_5_GiB_file_says_exactly_5_GiB()
    {
        var response = await RawHttp.SendAsync(fixture.Port, "HEAD", "/huge.img", Limit);

        Assert.True(response.Status == 200, response.Describe());
        Assert.Equal("5368709120", response.Header("Content-Length"));
        Assert.Empty(response.Body);
        await fixture.AssertStillServesAsync();
    }
}
