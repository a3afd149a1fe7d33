using System.Globalization;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>ETags and conditional requests (hostile-inputs H10). iPXE's <c>sanboot http://</c> reads a disk image by
/// ranges; If-Range is what keeps such a reader from stitching two versions of a file together.</summary>
public sealed class HttpConditionalTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private async Task<string> ETagOfAsync(string path)
    {
        var response = await RawHttp.SendAsync(fixture.Port, "HEAD", path, Limit);
        Assert.True(response.Status == 200, response.Describe());
        return response.Header("ETag") ?? throw new InvalidOperationException("no ETag: " + response.Describe());
    }

    [Fact]
    public async Task Etag_is_strong_and_stable_across_requests()
    {
        var first = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit);
        var second = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit);

        Assert.StartsWith("\"", first.Header("ETag"), StringComparison.Ordinal);
        Assert.Equal(first.Header("ETag"), second.Header("ETag"));
        Assert.Equal(first.Header("Last-Modified"), second.Header("Last-Modified"));
    }

    [Fact]
    public async Task If_none_match_with_the_etag_is_304_without_a_body()
    {
        var etag = await ETagOfAsync("/small.bin");

        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit, "If-None-Match: " + etag);

        Assert.True(response.Status == 304, response.Describe());
        Assert.Equal(etag, response.Header("ETag"));
        Assert.Empty(response.Body);
        await fixture.AssertStillServesAsync();
    }

    [Fact]
    public async Task If_range_with_a_stale_etag_is_200_with_the_whole_file()
    {
        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit,
            "Range: bytes=100-199", "If-Range: \"0-0\"");

        Assert.True(response.Status == 200, response.Describe());
        Assert.False(response.HasHeader("Content-Range"));
        Assert.Equal(HttpServerFixture.Small, response.Body);
    }

    [Fact]
    public async Task If_range_with_the_right_etag_is_206_with_the_range()
    {
        var etag = await ETagOfAsync("/small.bin");

        var response = await RawHttp.SendAsync(fixture.Port, "GET", "/small.bin", Limit,
            "Range: bytes=100-199", "If-Range: " + etag);

        Assert.True(response.Status == 206, response.Describe());
        Assert.Equal("bytes 100-199/10000", response.Header("Content-Range"));
        Assert.Equal(HttpServerFixture.Small[100..200], response.Body);
    }

    [Fact]
    public async Task Etag_changes_when_the_file_changes_and_old_validators_get_the_new_file_whole()
    {
        var path = fixture.Server.WriteFile("changing.img", PxeKitProcess.RandomBytes(4096, 21));
        File.SetLastWriteTimeUtc(path, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var before = await ETagOfAsync("/changing.img");

        // Same length, other bytes, a later time: what an in-place rebuild of an image looks like.
        var changed = PxeKitProcess.RandomBytes(4096, 22);
        fixture.Server.WriteFile("changing.img", changed);
        File.SetLastWriteTimeUtc(path, new DateTime(2026, 1, 1, 0, 0, 5, DateTimeKind.Utc));
        var after = await ETagOfAsync("/changing.img");

        Assert.NotEqual(before, after);
        var notModified = await RawHttp.SendAsync(fixture.Port, "GET", "/changing.img", Limit, "If-None-Match: " + before);
        Assert.True(notModified.Status == 200, notModified.Describe());
        Assert.Equal(changed, notModified.Body);
        var range = await RawHttp.SendAsync(fixture.Port, "GET", "/changing.img", Limit, "Range: bytes=0-99", "If-Range: " + before);
        Assert.True(range.Status == 200, range.Describe());
        Assert.Equal(changed, range.Body);
        Assert.Equal(after, range.Header("ETag"));
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{changed.Length}"), range.Header("Content-Length"));
    }
}
