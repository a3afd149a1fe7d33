using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Serve;

/// <summary>The real server reloads pxekit.yaml on change: new rules apply to new requests, a transfer in flight
/// finishes on the configuration it started with, and an invalid file is refused while the old one keeps serving.</summary>
public sealed class ConfigReloadTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static string Yaml(string token, string remap = "") => $$"""
        {{remap}}
        boot:
          default: hello
          entries:
            hello: {kind: script, script: "echo {{token}}"}
        """;

    [Fact]
    public async Task A_changed_file_applies_to_new_requests_while_a_transfer_in_flight_finishes_on_the_old_rules()
    {
        var content = PxeKitProcess.RandomBytes(100 * 512 + 17, seed: 5);
        await using var server = await PxeKitProcess.StartAsync(Yaml("first-generation"), root => File.WriteAllBytes(Path.Combine(root, "image.bin"), content));
        Assert.Contains("echo first-generation", await ScriptAsync(server));

        // Start a lock-step transfer and stop after the first block: it is in flight across the reload.
        using var client = new RawTftpClient();
        client.Send(server.TftpEndPoint, RawTftpClient.Rrq("image.bin"));
        var first = await client.ReceiveAsync(TimeSpan.FromSeconds(5)) ?? throw new TimeoutException("no DATA 1");
        Assert.Equal(3, RawTftpClient.Opcode(first.Data));
        var received = new MemoryStream();
        received.Write(first.Data, 4, first.Data.Length - 4);

        // The new generation maps image.bin to a name that does not exist.
        await WriteConfigAsync(server, Yaml("second-generation", "tftp: {remap: [{match: '^image\\.bin$', replace: gone.bin}]}"));
        Assert.True(await server.WaitForOutputAsync("Reloaded", Wait), server.Output);
        Assert.Contains("echo second-generation", await ScriptAsync(server));
        using (var probe = new RawTftpClient())
            await Assert.ThrowsAsync<IOException>(() => probe.DownloadAsync(server.TftpEndPoint, "image.bin"));

        // The old transfer goes on to its last block with the old file's bytes. Its retransmit timer may have
        // resent block 1 meanwhile; duplicates are skipped.
        var expected = (ushort)1;
        var transferPort = first.From;
        client.Send(transferPort, RawTftpClient.Ack(expected++));
        while (true)
        {
            var packet = await client.ReceiveAsync(TimeSpan.FromSeconds(5)) ?? throw new TimeoutException($"no DATA {expected} after the reload");
            Assert.Equal(3, RawTftpClient.Opcode(packet.Data));
            var block = RawTftpClient.Word(packet.Data);
            if (block != expected)
                continue;
            received.Write(packet.Data, 4, packet.Data.Length - 4);
            client.Send(transferPort, RawTftpClient.Ack(block));
            expected++;
            if (packet.Data.Length - 4 < 512)
                break;
        }
        Assert.Equal(content, received.ToArray());
    }

    [Fact]
    public async Task An_invalid_file_is_refused_with_its_reason_and_the_previous_configuration_keeps_serving()
    {
        await using var server = await PxeKitProcess.StartAsync(Yaml("still-here"));
        Assert.Contains("echo still-here", await ScriptAsync(server));

        await WriteConfigAsync(server, """
            boot:
              default: nowhere
              entries:
                hello: {kind: script, script: "echo replaced"}
            """);
        Assert.True(await server.WaitForOutputAsync("Not reloading", Wait), server.Output);
        Assert.Contains("'boot.default' names 'nowhere', which is no entry or menu under boot", server.Output);
        Assert.Contains("The previous configuration stays in force", server.Output);
        Assert.Contains("echo still-here", await ScriptAsync(server));
    }

    [Fact]
    public async Task A_changed_port_is_reported_as_needing_a_restart_and_the_running_port_is_kept()
    {
        await using var server = await PxeKitProcess.StartAsync(Yaml("one"));
        var config = Path.Combine(server.Directory, "pxekit.yaml");
        // The test's --tftp-port flag wins over the file, as at start; http.max-connections comes only from the file.
        await WriteConfigAsync(server, Yaml("two") + "\nhttp: {max-connections: 10}\n");
        Assert.True(await server.WaitForOutputAsync("Reloaded", Wait), server.Output);
        Assert.Contains("http.max-connections changed in the configuration file; it applies after a restart", server.Output);
        Assert.Contains("echo two", await ScriptAsync(server));
        Assert.True(File.Exists(config));
    }

    private static async Task WriteConfigAsync(PxeKitProcess server, string yaml)
    {
        // As editors do: write a temporary file and rename it over the old one.
        var config = Path.Combine(server.Directory, "pxekit.yaml");
        var temporary = config + ".tmp";
        await File.WriteAllTextAsync(temporary, yaml);
        File.Move(temporary, config, overwrite: true);
    }

    private static async Task<string> ScriptAsync(PxeKitProcess server)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri(server.HttpBase, "boot.ipxe?mac=52:54:00:12:34:56&platform=pcbios&buildarch=i386"));
    }

}
