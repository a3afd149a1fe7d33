using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>
/// One pxekit process for a test class, with a boot root holding what the HTTP tests fetch, and a secret file
/// beside the root whose content must never come back over HTTP.
/// </summary>
public sealed class HttpServerFixture : IAsyncLifetime
{
    public const string SecretContent = "PXEKIT-SECRET-BESIDE-THE-BOOT-ROOT";

    /// <summary>Sparse, so that the test costs no disk: 5 GiB, above every 32-bit size and offset (H3).</summary>
    public const long HugeLength = 5L << 30;

    /// <summary>Markers written above 4 GiB in the sparse file; the rest of it reads as zeros.</summary>
    public static readonly (long Offset, byte[] Bytes)[] HugeMarkers =
    [
        ((4L << 30) + 12_345, Encoding.ASCII.GetBytes("MARKER-ABOVE-4-GIB")),
        (HugeLength - 16, Encoding.ASCII.GetBytes("LAST-16-BYTES-OK")),
    ];

    public static readonly byte[] Small = PxeKitProcess.RandomBytes(10_000, 11);

    /// <summary>Several MiB, so that the body crosses many socket writes and the sendfile path.</summary>
    public static readonly byte[] Large = PxeKitProcess.RandomBytes((6 << 20) + 12_345, 12);

    public static readonly byte[] Bcd = PxeKitProcess.RandomBytes(8_192, 13);

    public PxeKitProcess Server { get; private set; } = null!;

    public int Port => Server.HttpPort;

    public async Task InitializeAsync()
    {
        Server = await PxeKitProcess.StartAsync("", root =>
        {
            var outside = Path.GetDirectoryName(root)!;
            File.WriteAllText(Path.Combine(outside, "secret.txt"), SecretContent);
            File.WriteAllBytes(Path.Combine(root, "small.bin"), Small);
            File.WriteAllBytes(Path.Combine(root, "large.bin"), Large);
            File.WriteAllBytes(Path.Combine(root, "empty.bin"), []);
            Directory.CreateDirectory(Path.Combine(root, "boot"));
            File.WriteAllBytes(Path.Combine(root, "boot", "bcd"), Bcd);
            Directory.CreateDirectory(Path.Combine(root, "sub"));
            File.WriteAllBytes(Path.Combine(root, "sub", "inside.bin"), Small);
            File.CreateSymbolicLink(Path.Combine(root, "link-out.txt"), Path.Combine(outside, "secret.txt"));
            Directory.CreateSymbolicLink(Path.Combine(root, "linkdir"), outside);
            using var huge = File.Create(Path.Combine(root, "huge.img"));
            huge.SetLength(HugeLength);
            foreach (var (offset, bytes) in HugeMarkers)
            {
                huge.Position = offset;
                huge.Write(bytes);
            }
        });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>The request every hostile-input test ends with: a plain GET on a fresh connection, byte-exact.</summary>
    public async Task AssertStillServesAsync()
    {
        var response = await RawHttp.SendAsync(Port, "GET", "/small.bin");
        Assert.True(response.Status == 200, response.Describe());
        Assert.Equal(Small, response.Body);
    }

    /// <summary>Asserts that nothing of the secret beside the root, nor of the system's password file, came back.</summary>
    public static void AssertNothingFromOutsideTheRoot(RawHttpResponse response)
    {
        Assert.DoesNotContain(SecretContent, response.WireText, StringComparison.Ordinal);
        Assert.DoesNotContain("root:x:0:0", response.WireText, StringComparison.Ordinal);
    }
}
