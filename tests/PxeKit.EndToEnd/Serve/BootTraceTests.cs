using System.Text.Json;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Serve;

/// <summary>
/// The real server records what real clients did, and `pxekit clients` / `pxekit trace` read it back while it runs.
/// TFTP carries no MAC: the HTTP request with <c>?mac=</c> (as iPXE's script URL has) tells the server which client
/// uses 127.0.0.1, and the TFTP transfer after it is recorded under that MAC.
/// </summary>
public sealed class BootTraceTests
{
    private const string Mac = "52:54:00:12:34:56";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Clients_and_trace_show_what_curl_and_tftp_hpa_fetched_while_the_server_runs()
    {
        var tftp = ExternalTool.Require("tftp", "tftp-hpa");
        var curl = ExternalTool.Require("curl", "curl");
        var kernel = PxeKitProcess.RandomBytes(300_000, 7);
        await using var server = await PxeKitProcess.StartAsync("", root =>
        {
            File.WriteAllText(Path.Combine(root, "boot.ipxe"), "#!ipxe\nchain kernel.bin\n");
            File.WriteAllBytes(Path.Combine(root, "kernel.bin"), kernel);
        });
        var scratch = Directory.CreateTempSubdirectory("pxekit-trace-e2e-").FullName;
        try
        {
            var script = await ExternalTool.RunAsync(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"{server.HttpBase}boot.ipxe?mac=52-54-00-12-34-56"], Limit);
            Assert.Equal("200", script.StandardOutput);
            var fetched = await ExternalTool.RunAsync(tftp, ["127.0.0.1", server.TftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-m", "binary", "-c", "get", "kernel.bin", Path.Combine(scratch, "kernel.bin")], Limit);
            Assert.True(fetched.ExitCode == 0, fetched.Describe());
            var missing = await ExternalTool.RunAsync(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"{server.HttpBase}missing.efi?mac={Mac}"], Limit);
            Assert.Equal("404", missing.StandardOutput);

            var dataDir = Path.Combine(server.Directory, "data");
            // The server writes its traces in the background; ask until the last event is there.
            JsonElement trace = default;
            var deadline = DateTime.UtcNow + Limit;
            while (true)
            {
                var run = await PxeKitAsync(server, "trace", "525400123456", "--data-dir", dataDir, "--json");
                if (run.ExitCode == 0)
                {
                    trace = JsonDocument.Parse(run.StandardOutput).RootElement;
                    if (trace.GetProperty("boots").EnumerateArray().SelectMany(b => b.GetProperty("events").EnumerateArray()).Count() >= 3)
                        break;
                }
                Assert.True(DateTime.UtcNow < deadline, "the trace never held the three events\n" + run.Describe() + "\n" + server.Output);
                await Task.Delay(200);
            }

            var events = Assert.Single(trace.GetProperty("boots").EnumerateArray()).GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(["HttpServed", "TftpServed", "HttpNotFound"], events.Select(e => e.GetProperty("kind").GetString()));
            Assert.Equal(("/boot.ipxe", "boot.ipxe", "GET 200"),
                (events[0].GetProperty("requested").GetString(), events[0].GetProperty("served").GetString(), events[0].GetProperty("detail").GetString()));
            Assert.Equal(("kernel.bin", "kernel.bin", kernel.Length),
                (events[1].GetProperty("requested").GetString(), events[1].GetProperty("served").GetString(), events[1].GetProperty("bytes").GetInt32()));
            Assert.All(events, e => Assert.Equal((Mac, "127.0.0.1"), (e.GetProperty("mac").GetString(), e.GetProperty("address").GetString())));
            Assert.Equal("/missing.efi", events[2].GetProperty("requested").GetString());
            Assert.Contains("missing.efi", events[2].GetProperty("detail").GetString(), StringComparison.Ordinal);

            var clients = await PxeKitAsync(server, "clients", "--data-dir", dataDir, "--json");
            var client = Assert.Single(JsonDocument.Parse(clients.StandardOutput).RootElement.EnumerateArray());
            Assert.Equal((Mac, "127.0.0.1", 1), (client.GetProperty("mac").GetString(), client.GetProperty("address").GetString(), client.GetProperty("boots").GetInt32()));

            var text = await PxeKitAsync(server, "trace", "52:54:00:12:34:56", "--data-dir", dataDir);
            Assert.True(text.StandardOutput.Contains("TFTP            kernel.bin    -> kernel.bin  293.0 KiB at ", StringComparison.Ordinal), text.StandardOutput);
            Assert.Contains("HTTP not found  /missing.efi  -", text.StandardOutput, StringComparison.Ordinal);

            var unknown = await PxeKitAsync(server, "trace", "52:54:00:99:99:99", "--data-dir", dataDir);
            Assert.Equal(1, unknown.ExitCode);
            Assert.StartsWith("pxekit: 52:54:00:99:99:99 is not in the boot traces of ", unknown.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public async Task A_query_from_another_host_cannot_move_a_known_client_to_its_address()
    {
        var curl = ExternalTool.Require("curl", "curl");
        await using var server = await PxeKitProcess.StartAsync("", root => File.WriteAllText(Path.Combine(root, "f.txt"), "x"));
        Assert.Equal("200", (await ExternalTool.RunAsync(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"{server.HttpBase}f.txt?mac={Mac}"], Limit)).StandardOutput);
        // Another host (127.0.0.2 on loopback) claims the same MAC.
        Assert.Equal("200", (await ExternalTool.RunAsync(curl, ["-sS", "--interface", "127.0.0.2", "-o", "/dev/null", "-w", "%{http_code}", $"{server.HttpBase}f.txt?mac={Mac}"], Limit)).StandardOutput);

        var dataDir = Path.Combine(server.Directory, "data");
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var run = await PxeKitAsync(server, "trace", Mac, "--data-dir", dataDir, "--json");
            if (run.ExitCode == 0 && JsonDocument.Parse(run.StandardOutput).RootElement.GetProperty("boots").EnumerateArray()
                    .SelectMany(b => b.GetProperty("events").EnumerateArray()).Count() >= 2)
                break;
            Assert.True(DateTime.UtcNow < deadline, "the trace never held both requests\n" + run.Describe());
            await Task.Delay(200);
        }
        var clients = await PxeKitAsync(server, "clients", "--data-dir", dataDir, "--json");
        var client = Assert.Single(JsonDocument.Parse(clients.StandardOutput).RootElement.EnumerateArray());
        Assert.Equal((Mac, "127.0.0.1"), (client.GetProperty("mac").GetString(), client.GetProperty("address").GetString()));
    }

    private static Task<ExternalTool.Result> PxeKitAsync(PxeKitProcess server, params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), .. arguments], Limit,
            workingDirectory: server.Directory);
}
