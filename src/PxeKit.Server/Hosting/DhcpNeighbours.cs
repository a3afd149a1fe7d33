using System.Net;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Buffers;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Hosting;

/// <summary>Which other DHCP and proxyDHCP servers answer on an interface: at start (with a warning where two
/// servers would fight) and for <c>pxekit doctor dhcp</c>.</summary>
public static partial class DhcpNeighbours
{
    /// <summary>Long enough for a server that pings a new address before offering it: dnsmasq's first OFFER came
    /// after ~3 s here, ISC dhcpd waits ~1 s.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(5);

    /// <summary>Broadcasts a PXE DISCOVER from UDP 68 on <paramref name="interfaceName"/> and lists the OFFERs.</summary>
    public static async Task<IReadOnlyList<DhcpServerAnswer>> ProbeAsync(string? interfaceName, TimeSpan wait, CancellationToken cancellationToken,
        int clientPort = DhcpLimits.ClientPort, int serverPort = DhcpLimits.ServerPort)
    {
        var transport = new UdpDatagramTransport { EnableBroadcast = true, Device = interfaceName, ReuseAddress = true, SocketBufferBytes = 256 * 1024 };
        using var endpoint = transport.Bind(new IPEndPoint(IPAddress.Any, clientPort));
        return await DhcpServerProbe.ProbeAsync(endpoint, new IPEndPoint(IPAddress.Broadcast, serverPort), wait, cancellationToken);
    }

    /// <summary>Logs what the probe found, judged for <paramref name="mode"/>; our own answers are left out.</summary>
    public static void Report(ILogger logger, DhcpMode mode, string? interfaceName, IPAddress ourAddress, IReadOnlyList<DhcpServerAnswer> answers)
    {
        var others = answers.Where(a => !IsOurs(a, mode, ourAddress)).ToList();
        var where = interfaceName ?? "the network";
        foreach (var answer in others)
        {
            if (mode == DhcpMode.Full && !answer.IsProxy)
                LogConflict(logger, where, answer.ToString());
            else if (answer.IsProxy)
                LogOtherProxy(logger, where, answer.ToString());
            else
                LogSiteServer(logger, where, answer.ToString());
        }
        if (mode == DhcpMode.Proxy && !others.Exists(a => !a.IsProxy))
            LogNoSiteServer(logger, where);
    }

    /// <summary>
    /// An answer a running PxeKit gave itself. A server on this very host answers from the same address, so the
    /// address alone does not tell: in proxy mode our answers carry no address, and one that does is the co-located
    /// site server's (dnsmasq or Kea beside us on the interface).
    /// </summary>
    public static bool IsOurs(DhcpServerAnswer answer, DhcpMode mode, IPAddress ourAddress) =>
        !ourAddress.Equals(IPAddress.Any) && answer.Server.Equals(ourAddress) && (answer.IsProxy || mode == DhcpMode.Full);

    [LoggerMessage(2050, LogLevel.Warning, "DHCP ANOTHER DHCP SERVER ANSWERS on {Interface}: {Answer}. Two servers handing out addresses on one network give clients conflicting leases; stop one, or run PxeKit with dhcp.mode: proxy")]
    private static partial void LogConflict(ILogger logger, string @interface, string answer);

    [LoggerMessage(2051, LogLevel.Warning, "DHCP another proxyDHCP/boot server answers PXE clients on {Interface}: {Answer}; clients may boot from either")]
    private static partial void LogOtherProxy(ILogger logger, string @interface, string answer);

    [LoggerMessage(2052, LogLevel.Information, "DHCP addresses on {Interface} come from {Answer}; PxeKit adds the boot options (proxyDHCP)")]
    private static partial void LogSiteServer(ILogger logger, string @interface, string answer);

    [LoggerMessage(2053, LogLevel.Warning, "DHCP no DHCP server answered on {Interface}: in proxy mode PXE clients still need one to give them an address (or run PxeKit with dhcp.mode: full)")]
    private static partial void LogNoSiteServer(ILogger logger, string @interface);

    [LoggerMessage(2054, LogLevel.Warning, "DHCP could not look for other DHCP servers on {Interface}: {Reason}")]
    public static partial void LogProbeFailed(ILogger logger, string @interface, string reason);
}
