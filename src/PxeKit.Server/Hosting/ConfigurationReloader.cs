using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Reloads pxekit.yaml when it changes (or on SIGHUP): the new file is read and validated whole, and only then
/// replaces the configuration in force, so an invalid edit is refused with its reason and the old configuration
/// keeps serving. Requests and transfers already running finish on the generation they started with. Settings that
/// belong to open sockets and stores (ports, addresses, DHCP mode, pools and timers, the data directory, trace
/// retention) need a restart; a change to them is reported and the running values are kept.
/// </summary>
public sealed partial class ConfigurationReloader : IHostedService, IDisposable
{
    /// <summary>Editors save in several steps (truncate, write, rename); wait for quiet before reading.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(400);

    private readonly LiveBootConfiguration _live;
    private readonly Func<PxeKitOptions> _load;
    private readonly Func<PxeKitOptions, BootConfiguration> _build;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _hangup;
    private Timer? _timer;
    private byte[] _lastHash = [];

    /// <param name="load">Reads the file and applies the command-line flags, as at start.</param>
    /// <param name="build">Makes a generation from options (the same as at start).</param>
    public ConfigurationReloader(LiveBootConfiguration live, string path, Func<PxeKitOptions> load,
        Func<PxeKitOptions, BootConfiguration> build, ILogger<ConfigurationReloader> logger)
    {
        _live = live;
        _path = Path.GetFullPath(path);
        _load = load;
        _build = build;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _lastHash = Hash();
        _timer = new Timer(_ => Reload("the file changed"));
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => _timer.Change(Settle, Timeout.InfiniteTimeSpan);
        _watcher.Created += (_, _) => _timer.Change(Settle, Timeout.InfiniteTimeSpan);
        _watcher.Renamed += (_, _) => _timer.Change(Settle, Timeout.InfiniteTimeSpan);
        _watcher.EnableRaisingEvents = true;
        if (!OperatingSystem.IsWindows())
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // SIGHUP means "reload", not "exit"
                _lastHash = [];
                Reload("SIGHUP");
            });
        }
        LogWatching(_logger, _path);
        return Task.CompletedTask;
    }

    /// <summary>Reads, validates and swaps in the file; returns whether a new configuration is in force.</summary>
    public bool Reload(string why)
    {
        lock (_gate)
        {
            var hash = Hash();
            if (hash.Length > 0 && hash.AsSpan().SequenceEqual(_lastHash))
                return false;
            var current = _live.Current;
            PxeKitOptions next;
            BootConfiguration generation;
            try
            {
                next = _load();
                foreach (var kept in KeepRunningValues(current.Options, next))
                    LogNeedsRestart(_logger, kept);
                generation = _build(next);
            }
            catch (Exception e) when (e is ConfigurationException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                LogRefused(_logger, _path, e.Message);
                _lastHash = hash;
                return false;
            }
            _live.Replace(generation);
            _lastHash = hash;
            LogReloaded(_logger, _path, why, Describe(generation));
            return true;
        }
    }

    /// <summary>
    /// Copies the settings bound to sockets and files opened at start from <paramref name="running"/> into
    /// <paramref name="next"/>, and names each one that the new file changed.
    /// </summary>
    public static List<string> KeepRunningValues(PxeKitOptions running, PxeKitOptions next)
    {
        var changed = new List<string>();
        void Keep<T>(string key, T runningValue, T nextValue, Action<T> restore)
        {
            if (!EqualityComparer<T>.Default.Equals(runningValue, nextValue))
                changed.Add(key);
            restore(runningValue);
        }
        if (running.Dhcp.Mode != PxeKit.Protocols.Dhcp.DhcpMode.Off && next.Dhcp.Mode != PxeKit.Protocols.Dhcp.DhcpMode.Off)
        {
            // Start-up completed the running DHCP options from the interface (its address as server address, a
            // subnet around --dhcp-range); complete the new ones the same way, so that an unchanged DHCP section is
            // not reported as changed on every reload.
            try
            {
                DhcpNetwork.Resolve(next.Dhcp);
            }
            catch (ConfigurationException)
            {
                // Compared as written: it differs from the running values and is reported below.
            }
        }
        Keep("listen", string.Join(",", running.Listen), string.Join(",", next.Listen), _ => next.Listen = running.Listen);
        Keep("data-dir", running.DataDirectory, next.DataDirectory, v => next.DataDirectory = v);
        Keep("log-level", running.LogLevel, next.LogLevel, v => next.LogLevel = v);
        Keep("tftp.enabled", running.Tftp.Enabled, next.Tftp.Enabled, v => next.Tftp.Enabled = v);
        Keep("tftp.port", running.Tftp.Port, next.Tftp.Port, v => next.Tftp.Port = v);
        Keep("tftp.max-transfers, max-block-size, max-window-size, retransmit-timeout, max-retries",
            (running.Tftp.Server.MaxTransfers, running.Tftp.Server.MaxBlockSize, running.Tftp.Server.MaxWindowSize, running.Tftp.Server.RetransmitTimeout, running.Tftp.Server.MaxRetries),
            (next.Tftp.Server.MaxTransfers, next.Tftp.Server.MaxBlockSize, next.Tftp.Server.MaxWindowSize, next.Tftp.Server.RetransmitTimeout, next.Tftp.Server.MaxRetries),
            _ => next.Tftp.Server = running.Tftp.Server);
        Keep("http.enabled", running.Http.Enabled, next.Http.Enabled, v => next.Http.Enabled = v);
        Keep("http.port", running.Http.Port, next.Http.Port, v => next.Http.Port = v);
        Keep("http.max-connections", running.Http.MaxConnections, next.Http.MaxConnections, v => next.Http.MaxConnections = v);
        Keep("dhcp.mode", running.Dhcp.Mode, next.Dhcp.Mode, v => next.Dhcp.Mode = v);
        Keep("dhcp.interface", running.Dhcp.Interface, next.Dhcp.Interface, v => next.Dhcp.Interface = v);
        Keep("dhcp.range", running.Dhcp.Range, next.Dhcp.Range, v => next.Dhcp.Range = v);
        Keep("dhcp.lease-time", running.Dhcp.DefaultLeaseTime, next.Dhcp.DefaultLeaseTime, v => next.Dhcp.DefaultLeaseTime = v);
        Keep("dhcp.detect-other-servers", running.Dhcp.DetectOtherServers, next.Dhcp.DetectOtherServers, v => next.Dhcp.DetectOtherServers = v);
        // The server options also carry what start-up resolved (the interface's address, the subnet made from
        // --dhcp-range), so they are kept whole.
        Keep("dhcp.subnets, server-address, port, proxy-port, authoritative, ping-check, decline-probation",
            DhcpServerText(running), DhcpServerText(next), _ => next.Dhcp.Server = running.Dhcp.Server);
        // The trace store is opened once, at start, with its retention.
        Keep("traces", TracesText(running), TracesText(next), _ => next.Traces = running.Traces);
        // Script entries own routes and concurrency slots made at start.
        Keep("scripts", ScriptsText(running), ScriptsText(next), _ => next.Scripts = running.Scripts);
        return changed;
    }

    private static string ScriptsText(PxeKitOptions options) =>
        string.Join(";", options.Scripts.Select(s => $"{s.Extension}|{s.Path}|{s.Program}|{string.Join(' ', s.Arguments)}|{s.Timeout}|{s.MaxOutput}|{s.MaxConcurrent}|{s.ContentType}"));

    private static string DhcpServerText(PxeKitOptions options)
    {
        var server = options.Dhcp.Server;
        return string.Join(";", server.Subnets.Select(s =>
                $"{s.Network}/{s.PrefixLength} {s.RangeStart}-{s.RangeEnd} {s.LeaseTime} {string.Join(",", s.Routers)} {string.Join(",", s.DnsServers)} "
                + $"{s.DomainName} {string.Join(",", s.NtpServers)} {string.Join(",", s.Reservations.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"))} "
                + string.Join(",", s.CustomOptions.Select(o => $"{o.Code}:{Convert.ToHexString(o.Value)}"))))
            + $"|{server.ServerAddress}|{server.Port}|{server.ProxyPort}|{server.Authoritative}|{server.PingCheck}|{server.DeclineProbation}";
    }

    private static string TracesText(PxeKitOptions options) =>
        $"{options.Traces.Enabled}|{options.Traces.Retention}|{options.Traces.MaxEvents}";

    private static string Describe(BootConfiguration generation)
    {
        var policy = generation.Policy?.Definition;
        return policy is null
            ? $"root {generation.Files.Root}, no boot policy"
            : $"root {generation.Files.Root}, {policy.Entries.Count} entries, {policy.Menus.Count} menus, {policy.Groups.Count} groups, {policy.Clients.Count} clients";
    }

    private byte[] Hash()
    {
        try
        {
            return SHA256.HashData(File.ReadAllBytes(_path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        _hangup?.Dispose();
        _hangup = null;
        _timer?.Dispose();
        _timer = null;
    }

    [LoggerMessage(3400, LogLevel.Information, "Watching {Path} for changes (also reloaded on SIGHUP)")]
    private static partial void LogWatching(ILogger logger, string path);

    [LoggerMessage(3401, LogLevel.Information, "Reloaded {Path} ({Why}): {What}; requests and transfers already running finish on the previous configuration")]
    private static partial void LogReloaded(ILogger logger, string path, string why, string what);

    [LoggerMessage(3402, LogLevel.Error, "Not reloading {Path}: {Reason}. The previous configuration stays in force")]
    private static partial void LogRefused(ILogger logger, string path, string reason);

    [LoggerMessage(3403, LogLevel.Warning, "{Key} changed in the configuration file; it applies after a restart of pxekit, and the running value is kept until then")]
    private static partial void LogNeedsRestart(ILogger logger, string key);
}
