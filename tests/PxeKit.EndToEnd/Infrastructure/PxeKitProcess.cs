using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>
/// The real <c>pxekit serve</c> executable, as a sysadmin runs it, on loopback with free ports and a temporary
/// boot root. Its output is collected for assertions on what it logged. It is stopped by its PID on dispose.
/// </summary>
public sealed class PxeKitProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private PxeKitProcess(Process process, string directory, int tftpPort, int httpPort)
    {
        _process = process;
        Directory = directory;
        TftpPort = tftpPort;
        HttpPort = httpPort;
    }

    public string Directory { get; }
    public string Root => Path.Combine(Directory, "boot");
    public int TftpPort { get; }
    public int HttpPort { get; }
    public IPEndPoint TftpEndPoint => new(IPAddress.Loopback, TftpPort);
    public Uri HttpBase => new($"http://127.0.0.1:{HttpPort}/");
    public string Output => string.Join('\n', _output);

    /// <summary>Starts pxekit with <paramref name="yaml"/> as pxekit.yaml (root and data dir are set here) and
    /// waits for its banner. <paramref name="prepareRoot"/> fills the boot root before the start.</summary>
    public static Task<PxeKitProcess> StartAsync(string yaml = "", Action<string>? prepareRoot = null, params string[] extraArguments) =>
        StartAsync(new PxeKitStart(yaml, prepareRoot, extraArguments));

    /// <summary>Starts pxekit as <paramref name="start"/> says: on loopback with free ports, or inside a network
    /// namespace on its address with the standard ports (69, 8080), as a real boot server runs.</summary>
    public static async Task<PxeKitProcess> StartAsync(PxeKitStart start)
    {
        var (yaml, prepareRoot, extraArguments) = (start.Yaml, start.PrepareRoot, start.ExtraArguments);
        var directory = System.IO.Directory.CreateTempSubdirectory("pxekit-e2e-").FullName;
        var root = Path.Combine(directory, "boot");
        System.IO.Directory.CreateDirectory(root);
        prepareRoot?.Invoke(root);
        var config = Path.Combine(directory, "pxekit.yaml");
        await File.WriteAllTextAsync(config, yaml);

        for (var attempt = 0; ; attempt++)
        {
            var (tftpPort, httpPort) = start.Namespace is null ? (FreeUdpPort(), FreeTcpPort()) : (69, 8080);
            var info = new ProcessStartInfo(start.Namespace is null ? "dotnet" : ExternalTool.Require("ip", "iproute2"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            string[] prefix = start.Namespace is null ? [] : ["netns", "exec", start.Namespace.Name, "dotnet"];
            foreach (var argument in prefix.Concat(new[]
            {
                Path.Combine(AppContext.BaseDirectory, "pxekit.dll"), "serve", "--config", config, "--root", root,
                "--data-dir", Path.Combine(directory, "data"), "--listen", start.Listen ?? start.Namespace?.Address.ToString() ?? "127.0.0.1",
                "--tftp-port", tftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }).Concat(extraArguments))
            {
                info.ArgumentList.Add(argument);
            }

            // `ip netns exec` execs the program, so the PID we stop is pxekit's own.
            var process = Process.Start(info)!;
            var server = new PxeKitProcess(process, directory, tftpPort, httpPort);
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            if (await server.WaitForOutputAsync("  HTTP  ", TimeSpan.FromSeconds(30)) || await server.WaitForOutputAsync("  HTTP  off", TimeSpan.Zero))
                return server;
            var output = server.Output;
            await server.StopAsync();
            if (attempt < 2 && output.Contains("in use", StringComparison.Ordinal))
                continue; // another process took the free port between our probe and the bind
            System.IO.Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException("pxekit did not start:\n" + output);
        }
    }

    /// <summary>Waits until a line containing <paramref name="fragment"/> has been printed.</summary>
    public async Task<bool> WaitForOutputAsync(string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (_output.Any(line => line.Contains(fragment, StringComparison.Ordinal)))
                return true;
            if (_process.HasExited)
                return _output.Any(line => line.Contains(fragment, StringComparison.Ordinal));
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }

    public string WriteFile(string relativePath, byte[] content)
    {
        var path = Path.Combine(Root, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A test that failed may have left a file open; the temp dir is cleaned by the OS later.
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>How to start pxekit for a test.</summary>
public sealed record PxeKitStart(string Yaml = "", Action<string>? PrepareRoot = null, string[]? Arguments = null)
{
    /// <summary>Run inside this namespace, listening on its bridge address.</summary>
    public NetworkNamespace? Namespace { get; init; }

    /// <summary>Listen address instead of the namespace's or loopback (e.g. 0.0.0.0).</summary>
    public string? Listen { get; init; }

    public string[] ExtraArguments => Arguments ?? [];
}
