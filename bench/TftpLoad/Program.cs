using System.Diagnostics;
using System.Globalization;
using System.Net;
using PxeKit.Bench.TftpLoad;

// tftpload: many TFTP read transfers from one process, every byte verified. See bench/README.md.
Settings settings;
try
{
    settings = Settings.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine("tftpload: " + e.Message);
    Console.Error.WriteLine(Settings.Usage);
    return 2;
}
if (settings.Help)
{
    Console.WriteLine(Settings.Usage);
    return 0;
}

var expected = new Dictionary<string, ExpectedContent>(StringComparer.Ordinal);
foreach (var name in settings.Files.Distinct(StringComparer.Ordinal))
    expected[name] = ExpectedContent.Open(Path.Combine(settings.ExpectDirectory, name));

var options = new TransferOptions(settings.BlockSize, settings.WindowSize, settings.TransferSize,
    TimeSpan.FromMilliseconds(settings.TimeoutMs), settings.MaxRetries);

using var hardStop = new CancellationTokenSource(TimeSpan.FromSeconds(settings.MaxSeconds));
using var sampler = settings.SamplePid is { } pid ? new RssSampler(pid) : null;
var totals = new Totals();
var tickets = 0L;
var clock = Stopwatch.StartNew();
var startDeadline = settings.DurationSeconds > 0 ? TimeSpan.FromSeconds(settings.DurationSeconds) : TimeSpan.MaxValue;

async Task WorkerAsync()
{
    while (!hardStop.IsCancellationRequested && clock.Elapsed < startDeadline)
    {
        var ticket = Interlocked.Increment(ref tickets) - 1;
        if (ticket >= settings.Count)
            return;
        var name = settings.Files[(int)(ticket % settings.Files.Count)];
        var transfer = new TftpClientTransfer(settings.Server, name, expected[name], options);
        var result = await transfer.RunAsync(hardStop.Token);
        totals.Add(result);
        if (!result.Completed && settings.Verbose)
            Console.Error.WriteLine($"tftpload: {name}: {result.Failure}");
    }
}

var workers = Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(WorkerAsync)).ToArray();
await Task.WhenAll(workers);
var seconds = clock.Elapsed.TotalSeconds;
var rss = sampler?.Stop();

foreach (var content in expected.Values)
    content.Dispose();

var line = FormattableString.Invariant(
    $"RESULT transfers={totals.Completed} failures={totals.Failed} aborted={totals.Aborted} bytes={totals.Bytes} seconds={seconds:F3} tps={totals.Completed / seconds:F1} mbps={totals.Bytes / seconds / 1e6:F2} timeouts={totals.Timeouts} dup_blocks={totals.Duplicates} gap_blocks={totals.OutOfOrder}");
if (rss is { } r)
    line += FormattableString.Invariant($" peak_rss_kb={r.PeakRssKb} hwm_kb={r.HighWaterMarkKb} samples={r.Samples}");
Console.WriteLine(line);
if (totals.FirstFailure is { } failure)
    Console.Error.WriteLine("tftpload: first failure: " + failure);
// Transfers stopped at --max-seconds are "aborted", not failures: the RSS scenario is bounded in time on purpose.
return totals.Failed == 0 ? 0 : 1;

internal sealed class Totals
{
    private readonly Lock _lock = new();
    public long Completed;
    public long Failed;
    public long Aborted;
    public long Bytes;
    public long Timeouts;
    public long Duplicates;
    public long OutOfOrder;
    public string? FirstFailure;

    public void Add(in TransferResult result)
    {
        lock (_lock)
        {
            Bytes += result.VerifiedBytes;
            Timeouts += result.Timeouts;
            Duplicates += result.Duplicates;
            OutOfOrder += result.OutOfOrder;
            if (result.Completed)
            {
                Completed++;
            }
            else if (result.Failure == TftpClientTransfer.StoppedAtTimeLimit)
            {
                Aborted++;
            }
            else
            {
                Failed++;
                FirstFailure ??= result.Failure;
            }
        }
    }
}

internal sealed class Settings
{
    public const string Usage = """
        usage: tftpload --server IP:PORT --file NAME [--file NAME...] --expect-dir DIR [options]
          --concurrency N     transfers in flight (default 1)
          --count N           transfers in all (default: --concurrency)
          --duration S        stop starting transfers after S seconds (transfers/s runs; default: off)
          --max-seconds S     hard limit: transfers still running are aborted and counted apart (default 120)
          --blksize N         ask for blksize N (RFC 2348; default: do not ask, 512)
          --windowsize N      ask for windowsize N (RFC 7440; default: do not ask, lock-step)
          --tsize             ask for tsize and check the answer against the file (RFC 2349)
          --timeout-ms N      client retransmission time-out (default 1000)
          --retries N         retransmissions before a transfer fails (default 5)
          --sample-pid PID    sample VmRSS of PID every 50 ms; report the peak and VmHWM
          --verbose           print every failed transfer
        Every payload is compared with DIR/NAME at its offset. Prints one line:
        RESULT transfers= failures= aborted= bytes= seconds= tps= mbps= timeouts= dup_blocks= gap_blocks= [peak_rss_kb= hwm_kb=]
        (mbps is 10^6 bytes per second of verified payload; exit status 1 when any transfer failed).
        """;

    public IPEndPoint Server { get; private set; } = new(IPAddress.Loopback, 69);
    public List<string> Files { get; } = [];
    public string ExpectDirectory { get; private set; } = ".";
    public int Concurrency { get; private set; } = 1;
    public long Count { get; private set; } = -1;
    public double DurationSeconds { get; private set; }
    public double MaxSeconds { get; private set; } = 120;
    public int BlockSize { get; private set; }
    public int WindowSize { get; private set; }
    public bool TransferSize { get; private set; }
    public int TimeoutMs { get; private set; } = 1000;
    public int MaxRetries { get; private set; } = 5;
    public int? SamplePid { get; private set; }
    public bool Verbose { get; private set; }
    public bool Help { get; private set; }

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            int Int(int min, int max)
            {
                var name = args[i];
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v
                    : throw new FormatException($"{name} {text}: expected {min} to {max}");
            }
            double Seconds()
            {
                var name = args[i];
                var text = Value();
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
                    ? v
                    : throw new FormatException($"{name} {text}: expected a positive number of seconds");
            }

            switch (args[i])
            {
                case "--server":
                    var text = Value();
                    s.Server = IPEndPoint.TryParse(text, out var ep) && ep.Port != 0 ? ep : throw new FormatException($"--server {text}: expected IP:PORT");
                    break;
                case "--file": s.Files.Add(Value()); break;
                case "--expect-dir": s.ExpectDirectory = Value(); break;
                case "--concurrency": s.Concurrency = Int(1, 4096); break;
                case "--count": s.Count = Int(1, int.MaxValue); break;
                case "--duration": s.DurationSeconds = Seconds(); break;
                case "--max-seconds": s.MaxSeconds = Seconds(); break;
                case "--blksize": s.BlockSize = Int(8, 65464); break;
                case "--windowsize": s.WindowSize = Int(1, 65535); break;
                case "--tsize": s.TransferSize = true; break;
                case "--timeout-ms": s.TimeoutMs = Int(10, 255_000); break;
                case "--retries": s.MaxRetries = Int(0, 100); break;
                case "--sample-pid": s.SamplePid = Int(1, int.MaxValue); break;
                case "--verbose": s.Verbose = true; break;
                case "-h" or "--help": s.Help = true; break;
                default: throw new FormatException($"unknown argument {args[i]}");
            }
        }
        if (s.Help)
            return s;
        if (s.Files.Count == 0)
            throw new FormatException("--file is required");
        if (s.Count < 0)
            s.Count = s.DurationSeconds > 0 ? long.MaxValue : s.Concurrency;
        return s;
    }
}
