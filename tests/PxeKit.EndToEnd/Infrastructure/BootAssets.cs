namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>Debian's kernel, a busybox initrd that prints a marker, and Debian's iPXE binaries, built by
/// assets/make-boot-assets.sh into a cache of the machine (<c>$PXEKIT_TEST_ASSETS</c>, default
/// <c>/var/cache/pxekit-test-assets</c>), so that a fresh clone on the same machine does not download the kernel
/// package again: like apt's own archive cache, it spares the mirror and survives a mirror outage.</summary>
public static class BootAssets
{
    private static readonly SemaphoreSlim Once = new(1, 1);
    private static string? _directory;

    public const string MarkerPrefix = "PXEKIT-BOOT-OK";

    public static async Task<string> EnsureAsync()
    {
        await Once.WaitAsync();
        try
        {
            if (_directory is not null)
                return _directory;
            var script = Path.Combine(RepositoryRoot(), "tests", "PxeKit.EndToEnd", "assets", "make-boot-assets.sh");
            var cache = Environment.GetEnvironmentVariable("PXEKIT_TEST_ASSETS") ?? "/var/cache/pxekit-test-assets";
            var result = await ExternalTool.RunAsync("/bin/sh", [script, cache], TimeSpan.FromMinutes(5));
            if (result.ExitCode != 0)
                throw new InvalidOperationException("make-boot-assets.sh failed: " + result.Describe());
            _directory = result.StandardOutput.Trim().Split('\n')[^1].Trim();
            return _directory;
        }
        finally
        {
            Once.Release();
        }
    }

    /// <summary>The iPXE script that loads the test kernel and initrd over HTTP; the initrd prints
    /// <c>PXEKIT-BOOT-OK token</c> on the serial console. Under UEFI the kernel needs <c>initrd=</c>.</summary>
    public static string Script(string server, string token) => $$"""
        #!ipxe
        echo PxeKit test script reached on ${platform}
        kernel http://{{server}}:8080/vmlinuz initrd=initrd.gz console=ttyS0 quiet panic=-1 pxekit.token={{token}}
        initrd http://{{server}}:8080/initrd.gz
        boot

        """;

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PxeKit.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("PxeKit.slnx not found above " + AppContext.BaseDirectory);
    }
}
