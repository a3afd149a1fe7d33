using System.Net;

namespace PxeKit.Protocols.Dhcp;

/// <summary>What <see cref="DhcpServer.Start"/> bound: the endpoints, how port 67 is held, and the serving task.</summary>
public sealed record DhcpStart(IReadOnlyList<IPEndPoint> LocalEndPoints, DhcpPort67 Port67, Task Serving);

/// <summary>How the DHCP server holds port 67.</summary>
public enum DhcpPort67
{
    /// <summary>Bound on the listen address alone: broadcasts, unicast and relayed requests all arrive.</summary>
    Owned,

    /// <summary>Proxy mode beside another DHCP server on this host: bound to 255.255.255.255 with address reuse, so
    /// PXE DISCOVERs (broadcasts) arrive and that server keeps its unicast and relayed traffic.</summary>
    SharedForBroadcasts,

    /// <summary>Proxy mode where another server holds 67 exclusively: only the boot-server port 4011 is served, which
    /// clients reach when that server's OFFER carries option 60 "PXEClient".</summary>
    Unavailable,
}
