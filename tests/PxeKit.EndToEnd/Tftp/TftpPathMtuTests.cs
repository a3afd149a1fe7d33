using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Tftp;

/// <summary>T22: on a 1500-byte Ethernet path, a client asking for the largest block gets one that fits a frame,
/// because fragments break many PXE ROMs. pxekit listens on the wildcard address, so this also checks that a
/// transfer answers from the address the client used (IP_PKTINFO).</summary>
[Collection(VirtualMachinesCollection.Name)]
public sealed class TftpPathMtuTests
{
    [Fact]
    public async Task Block_size_is_clamped_to_the_interface_mtu_across_a_real_link()
    {
        await using var network = await NetworkNamespace.CreateAsync();
        await using var client = await network.AttachPeerAsync("192.0.2.20/24");
        var content = PxeKitProcess.RandomBytes(200_000, 22);
        await using var pxekit = await PxeKitProcess.StartAsync(new PxeKitStart(
            "", root => File.WriteAllBytes(Path.Combine(root, "f.bin"), content)) { Namespace = network, Listen = "0.0.0.0" });
        var target = Path.Combine(pxekit.Directory, "received.bin");

        var result = await client.RunAsync(ExternalTool.Require("atftp", "atftp"),
            ["--option", "blksize 65464", "--trace", "-g", "-r", "f.bin", "-l", target, network.Address.ToString(), "69"],
            TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Matches("received OACK <.*blksize: 1468", result.StandardOutput + result.StandardError);
        Assert.Equal(content, await File.ReadAllBytesAsync(target));
    }
}
