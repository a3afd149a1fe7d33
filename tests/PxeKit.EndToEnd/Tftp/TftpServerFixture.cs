using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Tftp;

/// <summary>One pxekit process for a test class, with a boot root holding the files the tests fetch.</summary>
public sealed class TftpServerFixture : IAsyncLifetime
{
    public PxeKitProcess Server { get; private set; } = null!;

    public static readonly byte[] Small = PxeKitProcess.RandomBytes(74_213, 1);

    /// <summary>More than 65535 blocks at blksize 512: block numbers must roll over (T18).</summary>
    public static readonly byte[] Large = PxeKitProcess.RandomBytes((65_535 * 512) + 300_001, 2);

    public async Task InitializeAsync()
    {
        Server = await PxeKitProcess.StartAsync("tftp:\n  max-window-size: 64\n", root =>
        {
            File.WriteAllBytes(Path.Combine(root, "small.bin"), Small);
            File.WriteAllBytes(Path.Combine(root, "large.bin"), Large);
            Directory.CreateDirectory(Path.Combine(root, "boot"));
            File.WriteAllBytes(Path.Combine(root, "boot", "bcd"), Small);
            File.WriteAllText(Path.Combine(root, "menu.txt"), "line one\nline two\r\nend\n");
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(root)!, "secret.txt"), "outside the root");
        });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
