using System.Globalization;

namespace PxeKit.Bench.TftpLoad;

/// <summary>Samples VmRSS of a process from /proc every 50 ms and reads VmHWM (the kernel's own peak) at the end.</summary>
internal sealed class RssSampler : IDisposable
{
    private readonly string _status;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peakRssKb;
    private long _hwmKb;
    private long _samples;

    public RssSampler(int pid)
    {
        _status = $"/proc/{pid}/status";
        _loop = Task.Run(LoopAsync);
    }

    public readonly record struct Figures(long PeakRssKb, long HighWaterMarkKb, long Samples);

    public Figures Stop()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait();
        }
        catch (AggregateException)
        {
        }
        Sample();
        return new Figures(Interlocked.Read(ref _peakRssKb), Interlocked.Read(ref _hwmKb), Interlocked.Read(ref _samples));
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        do
        {
            Sample();
        }
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
    }

    private void Sample()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(_status);
        }
        catch (IOException)
        {
            return; // the process ended
        }
        foreach (var line in lines)
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = Kilobytes(line);
                if (kb > Interlocked.Read(ref _peakRssKb))
                    Interlocked.Exchange(ref _peakRssKb, kb);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _hwmKb, Kilobytes(line));
            }
        }
        Interlocked.Increment(ref _samples);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    public void Dispose() => _stop.Dispose();
}
