using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Buffers;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot;
using PxeKit.Server.Options;
using PxeKit.Server.Storage;

namespace PxeKit.Server.Hosting;

/// <summary>Runs the DHCP server (proxy or full) on the configured interface for the lifetime of the host.</summary>
internal sealed partial class DhcpListener(
    PxeKitOptions options, LiveBootConfiguration live, ServerEndpoints endpoints, TimeProvider time, ILoggerFactory loggers, IBootTrace trace)
    : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _serving = Task.CompletedTask;
    private SqliteDhcpLeaseStore? _store;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dhcp = options.Dhcp;
        try
        {
            DhcpNetwork.Resolve(dhcp);
        }
        catch (ConfigurationException e)
        {
            throw new ListenerStartException(e.Message, e);
        }
        dhcp.Boot.HttpPort = options.Http.Port;
        dhcp.Boot.HttpEnabled = options.Http.Enabled;
        endpoints.DhcpServerAddress = dhcp.Server.ServerAddress;

        if (dhcp.Mode == DhcpMode.Full)
            _store = new SqliteDhcpLeaseStore(options.DataDirectory);
        var transport = new UdpDatagramTransport { EnableBroadcast = true, Device = dhcp.Interface, SocketBufferBytes = 4 << 20 };
        var server = new DhcpServer(dhcp.Server, new LiveDhcpBootPolicy(live), _store, transport, time,
            loggers.CreateLogger("PxeKit.Dhcp"), PingAsync)
        {
            Observer = new DhcpTraceObserver(trace, time),
        };
        try
        {
            // The wildcard address: broadcasts to 255.255.255.255 reach only a socket bound to 0.0.0.0;
            // SO_BINDTODEVICE keeps it to the served interface.
            var start = server.Start(IPAddress.Any, _stopping.Token);
            foreach (var endpoint in start.LocalEndPoints)
                endpoints.AddDhcp(endpoint);
            endpoints.DhcpPort67 = start.Port67;
            _serving = start.Serving;
            var logger = loggers.CreateLogger("PxeKit.Dhcp");
            var sharing = DhcpPortSharing.Describe(start.Port67, dhcp.Server.Port, dhcp.Server.ProxyPort);
            if (start.Port67 == DhcpPort67.SharedForBroadcasts)
                LogPortShared(logger, sharing!);
            else if (start.Port67 == DhcpPort67.Unavailable)
                LogPortUnavailable(logger, sharing!, DhcpPortSharing.OptionSixtyHint);
        }
        catch (SocketException e)
        {
            var hint = e.SocketErrorCode switch
            {
                SocketError.AccessDenied => " (ports 67 and 4011 and binding to an interface need root or CAP_NET_BIND_SERVICE + CAP_NET_RAW)",
                SocketError.AddressAlreadyInUse when dhcp.Mode == DhcpMode.Full =>
                    $" (held by {DhcpPortSharing.FindHolder(dhcp.Server.Port) ?? "another DHCP server such as dnsmasq, dhcpd or kea"} on this machine: two servers handing out addresses on one network is a fault; stop it, or run PxeKit beside it with dhcp.mode: proxy)",
                SocketError.AddressAlreadyInUse => " (another DHCP or PXE boot server on this machine holds both ports)",
                _ => "",
            };
            throw new ListenerStartException($"cannot listen for DHCP on udp {dhcp.Server.Port}/{dhcp.Server.ProxyPort}: {e.Message}{hint}", e);
        }
        if (dhcp.DetectOtherServers)
            _detection = DetectOtherServersAsync(dhcp, loggers.CreateLogger("PxeKit.Dhcp"));
        return Task.CompletedTask;
    }

    private Task _detection = Task.CompletedTask;

    /// <summary>In the background after start: the server is already answering, and our own OFFER is left out.</summary>
    private async Task DetectOtherServersAsync(DhcpOptions dhcp, ILogger logger)
    {
        try
        {
            var answers = await DhcpNeighbours.ProbeAsync(dhcp.Interface, DhcpNeighbours.DefaultWait, _stopping.Token);
            DhcpNeighbours.Report(logger, dhcp.Mode, dhcp.Interface, dhcp.Server.ServerAddress, answers);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            DhcpNeighbours.LogProbeFailed(logger, dhcp.Interface ?? "the network", e.Message);
        }
    }

    private static async Task<bool> PingAsync(IPAddress address, CancellationToken cancellationToken)
    {
        using var ping = new Ping();
        try
        {
            var reply = await ping.SendPingAsync(address, TimeSpan.FromMilliseconds(500), cancellationToken: cancellationToken);
            return reply.Status == IPStatus.Success;
        }
        catch (PingException)
        {
            return false;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_serving, _detection).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        if (_store is not null)
            await _store.DisposeAsync();
    }

    [LoggerMessage(2055, LogLevel.Information, "DHCP {Sharing}")]
    private static partial void LogPortShared(ILogger logger, string sharing);

    [LoggerMessage(2056, LogLevel.Warning, "DHCP {Sharing}. To send them here, make it add option 60 for PXE clients: {Hint}")]
    private static partial void LogPortUnavailable(ILogger logger, string sharing, string hint);
}
