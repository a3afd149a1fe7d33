using System.Diagnostics;
using System.Text;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>
/// A long-running program started inside a <see cref="NetworkNamespace"/> (`ip netns exec` execs the program,
/// so <see cref="ProcessId"/> is the program itself). Its stdout and stderr are collected in memory.
/// Dispose kills it by PID (only this PID) and waits, bounded, for it to go.
/// </summary>
public sealed class NamespacedProcess : IAsyncDisposable
{
    private const int MaxCapturedChars = 256 * 1024;
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly object gate = new();
    private bool disposed;
    private int? exitCode;

    private NamespacedProcess(Process process, string description)
    {
        this.process = process;
        Description = description;
    }

    /// <summary>Program and arguments as started (without the `ip netns exec` prefix).</summary>
    public string Description { get; }

    /// <summary>PID of the program (stays readable after dispose).</summary>
    public int ProcessId { get; private set; }

    /// <summary>True once the program exited (also after dispose, which kills it).</summary>
    public bool HasExited => disposed || process.HasExited;

    /// <summary>Exit code once exited (137-style kill codes after dispose); null while running.</summary>
    public int? ExitCode => exitCode ?? (!disposed && process.HasExited ? process.ExitCode : null);

    /// <summary>Everything the program wrote to stdout and stderr so far (interleaved by arrival; capped at 256 K chars).</summary>
    public string Output
    {
        get
        {
            lock (gate)
                return output.ToString();
        }
    }

    internal static NamespacedProcess Start(
        string namespaceName, string program, IEnumerable<string> arguments, string? workingDirectory)
    {
        var ip = ExternalTool.Require("ip", "iproute2");
        var args = arguments.ToList();
        var start = new ProcessStartInfo(ip)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in new[] { "netns", "exec", namespaceName, program }.Concat(args))
            start.ArgumentList.Add(argument);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var result = new NamespacedProcess(process, string.Join(' ', new[] { program }.Concat(args)));
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        if (!process.Start())
            throw new InvalidOperationException($"could not start {result.Description} in namespace {namespaceName}");
        result.ProcessId = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return result;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (gate)
        {
            if (output.Length < MaxCapturedChars)
                output.AppendLine(line);
        }
    }

    /// <summary>Waits (bounded) for the program to exit by itself; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Description} (pid {ProcessId}) did not exit within {timeout.TotalSeconds:0} s");
        }
        return process.ExitCode;
    }

    /// <summary>Kills this PID (SIGKILL) if still running and waits up to 10 s for it to be reaped.</summary>
    public async Task StopAsync()
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // exited between the check and the kill
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Description} (pid {ProcessId}) survived SIGKILL for 10 s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
            return;
        try
        {
            await StopAsync();
            exitCode = process.ExitCode;
        }
        finally
        {
            disposed = true;
            process.Dispose();
        }
    }
}
