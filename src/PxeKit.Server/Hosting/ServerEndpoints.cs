using System.Net;

namespace PxeKit.Server.Hosting;

/// <summary>Where the servers actually listen once started (ports asked as 0 are resolved here; tests read it).</summary>
public sealed class ServerEndpoints
{
    private readonly List<IPEndPoint> _tftp = [];

    public IReadOnlyList<IPEndPoint> Tftp
    {
        get
        {
            lock (_tftp)
                return [.. _tftp];
        }
    }

    internal void AddTftp(IPEndPoint endPoint)
    {
        lock (_tftp)
            _tftp.Add(endPoint);
    }

    private readonly List<IPEndPoint> _dhcp = [];

    /// <summary>DHCP endpoints (67 and 4011 in the wildcard address), empty when DHCP is off.</summary>
    public IReadOnlyList<IPEndPoint> Dhcp
    {
        get
        {
            lock (_dhcp)
                return [.. _dhcp];
        }
    }

    /// <summary>How DHCP holds port 67 (proxy mode may share it with, or leave it to, a server on this host).</summary>
    public PxeKit.Protocols.Dhcp.DhcpPort67 DhcpPort67 { get; internal set; }

    /// <summary>Our address on the DHCP network, once resolved from the interface.</summary>
    public IPAddress? DhcpServerAddress { get; internal set; }

    internal void AddDhcp(IPEndPoint endPoint)
    {
        lock (_dhcp)
            _dhcp.Add(endPoint);
    }
}

/// <summary>A listener could not start: one sentence for the user (port in use, permission denied).</summary>
public sealed class ListenerStartException(string message, Exception inner) : Exception(message, inner);
