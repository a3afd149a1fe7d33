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
}

/// <summary>A listener could not start: one sentence for the user (port in use, permission denied).</summary>
public sealed class ListenerStartException(string message, Exception inner) : Exception(message, inner);
