using System.Diagnostics;

namespace PxeKit.EndToEnd.Infrastructure;

/// <summary>
/// Runs a real program from Debian's packages (atftp, curl, hivexsh, qemu-img...) with a time limit.
/// A missing program is a failure that names the package to install, never a silent skip:
/// `.ci/run` installs every one of them.
/// </summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Describe() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
    }

    /// <summary>A data file a Debian package installs (firmware, bootloaders); fails the test naming the package.</summary>
    public static string RequireFile(string path, string debianPackage) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing; install Debian's '{debianPackage}' (`.ci/run` does this).");

    /// <summary>Full path of <paramref name="program"/> on PATH; fails the test naming the Debian package.</summary>
    public static string Require(string program, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin:/usr/sbin:/sbin").Split(':'))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin" })
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"'{program}' is not installed; install Debian's '{debianPackage}' (`.ci/run` does this).");
    }

    public static async Task<Result> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan timeout,
        string? standardInput = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
            await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(
                $"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
