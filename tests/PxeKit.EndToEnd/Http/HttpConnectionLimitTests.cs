using System.Net;
using System.Net.Sockets;
using System.Text;
using PxeKit.EndToEnd.Infrastructure;

namespace PxeKit.EndToEnd.Http;

/// <summary>Idle and slow connections (hostile-inputs H5), each against a pxekit of its own with a small cap.</summary>
public sealed class HttpConnectionLimitTests
{
    private const string CappedYaml = "http:\n  max-connections: 20\n";

    private static async Task<bool> IsClosedByServerAsync(TcpClient client, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await client.GetStream().ReadAsync(new byte[1], cts.Token) == 0;
        }
        catch (OperationCanceledException)
        {
            return false; // still open when the wait ran out
        }
        catch (IOException)
        {
            return true; // reset
        }
    }

    [Fact]
    public async Task Connections_beyond_max_connections_are_closed_at_once_and_service_resumes()
    {
        await using var server = await PxeKitProcess.StartAsync(CappedYaml, root => File.WriteAllText(Path.Combine(root, "hello.txt"), "hello"));
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 25; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, server.HttpPort).WaitAsync(TimeSpan.FromSeconds(5));
                clients.Add(client);
            }

            var closed = await Task.WhenAll(clients.Select(c => IsClosedByServerAsync(c, TimeSpan.FromSeconds(3))));

            Assert.Equal(5, closed.Count(c => c));
            Assert.True(await server.WaitForOutputAsync("rejected because the maximum number of concurrent connections has been reached", TimeSpan.FromSeconds(5)), server.Output);
            Assert.Equal(5, server.Output.Split('\n').Count(l => l.Contains("maximum number of concurrent connections", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }

        // Kestrel frees a slot when it sees the FIN; allow it a moment, bounded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        RawHttpResponse? response = null;
        while (DateTime.UtcNow < deadline)
        {
            var wire = await RawHttp.ExchangeAsync(server.HttpPort, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray(), TimeSpan.FromSeconds(5));
            if (wire.Length > 0)
            {
                response = RawHttp.Parse(wire);
                break;
            }
            await Task.Delay(100);
        }
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal("hello", Encoding.ASCII.GetString(response.Body));
    }

    /// <summary>Slowloris: one header byte every two seconds never completes the request; Kestrel's 30-second header
    /// timeout ends it with 408 and the server goes on serving. Bounded at 40 seconds.</summary>
    [Fact]
    public async Task Headers_dribbled_slowly_are_cut_off_by_the_header_timeout()
    {
        await using var server = await PxeKitProcess.StartAsync(CappedYaml, root => File.WriteAllText(Path.Combine(root, "hello.txt"), "hello"));
        using var slow = new TcpClient();
        await slow.ConnectAsync(IPAddress.Loopback, server.HttpPort).WaitAsync(TimeSpan.FromSeconds(5));
        var stream = slow.GetStream();
        var started = DateTime.UtcNow;
        var header = Encoding.ASCII.GetBytes("GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + new string('a', 100));
        var received = new MemoryStream();
        var reading = Task.Run(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            var buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
                    received.Write(buffer, 0, read);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // the time limit, or a reset once the server gave up
            }
            return DateTime.UtcNow - started;
        });

        foreach (var b in header)
        {
            if (reading.IsCompleted)
                break;
            try
            {
                await stream.WriteAsync(new[] { b });
            }
            catch (IOException)
            {
                break; // the server closed the connection
            }
            await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2)));
        }
        var elapsed = await reading;

        Assert.InRange(elapsed, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(39));
        Assert.StartsWith("HTTP/1.1 408", Encoding.ASCII.GetString(received.ToArray()), StringComparison.Ordinal);
        var after = await RawHttp.SendAsync(server.HttpPort, "GET", "/hello.txt");
        Assert.Equal(200, after.Status);
    }
}
