using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;

namespace PxeKit.Server.Hosting;

/// <summary>
/// Words for how proxy mode holds UDP 67 beside a DHCP server on the same host (<see cref="DhcpPort67"/>), shared
/// by serve's start-up log and `pxekit doctor`, and who holds the port (from /proc on Linux).
/// </summary>
public static class DhcpPortSharing
{
    /// <summary>How to make the site's DHCP server send PXE clients to port 4011 (PXE 2.1 §2.2.5): option 60
    /// "PXEClient" in its OFFER to them, as a Windows DHCP server does beside WDS.</summary>
    public const string OptionSixtyHint =
        "dnsmasq: add bind-interfaces to its configuration (then PxeKit shares port 67), or dhcp-vendorclass=set:pxe,PXEClient and dhcp-option-force=tag:pxe,60,PXEClient; " +
        "Kea: a client class with \"test\": \"substring(option[60].hex,0,9) == 'PXEClient'\" and option-data vendor-class-identifier \"PXEClient\"; " +
        "ISC dhcpd: class \"pxe\" { match if substring(option vendor-class-identifier, 0, 9) = \"PXEClient\"; option vendor-class-identifier \"PXEClient\"; }";

    /// <summary>One sentence for the start-up log and doctor; null when PxeKit owns the port.</summary>
    public static string? Describe(DhcpPort67 port67, int port, int proxyPort)
    {
        var holder = FindHolder(port) is { } who ? who : "another program";
        return port67 switch
        {
            DhcpPort67.SharedForBroadcasts =>
                $"udp {port} is held by {holder} on this host: proxy mode shares it for the broadcasts PXE clients send, and leaves that server its unicast and relayed traffic",
            DhcpPort67.Unavailable =>
                $"udp {port} is held by {holder}, which does not share it: proxy mode serves udp {proxyPort} alone, and PXE clients find PxeKit only if that server's OFFER to them carries option 60 \"PXEClient\"",
            _ => null,
        };
    }

    /// <summary>
    /// Binds port 67 the way serve would in <paramref name="mode"/> and releases it at once: owned, shared for
    /// broadcasts (proxy mode beside another server), or unavailable. Other bind errors throw.
    /// </summary>
    public static DhcpPort67 Probe(DhcpMode mode, int port, string? interfaceName)
    {
        try
        {
            using var owned = Bind(new IPEndPoint(IPAddress.Any, port), interfaceName, reuse: false);
            return DhcpPort67.Owned;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && mode == DhcpMode.Proxy)
        {
        }
        try
        {
            using var shared = Bind(new IPEndPoint(IPAddress.Broadcast, port), interfaceName, reuse: true);
            return DhcpPort67.SharedForBroadcasts;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return DhcpPort67.Unavailable;
        }
    }

    private static Socket Bind(IPEndPoint endPoint, string? interfaceName, bool reuse)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (reuse)
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (interfaceName is { Length: > 0 } && OperatingSystem.IsLinux())
                socket.SetRawSocketOption(1, 25, System.Text.Encoding.ASCII.GetBytes(interfaceName + "\0")); // SOL_SOCKET, SO_BINDTODEVICE
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>"dnsmasq (pid 812)" for the process holding a UDP port, from /proc/net/udp and /proc/*/fd; null
    /// where that cannot be seen (not Linux, not root, the socket gone).</summary>
    public static string? FindHolder(int port)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        try
        {
            var inodes = new HashSet<string>(StringComparer.Ordinal);
            var hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines("/proc/net/udp").Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[1].EndsWith(hexPort, StringComparison.Ordinal) && fields[9] != "0")
                    inodes.Add($"socket:[{fields[9]}]");
            }
            if (inodes.Count == 0)
                return null;
            var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            foreach (var process in Directory.EnumerateDirectories("/proc"))
            {
                var pid = Path.GetFileName(process);
                if (pid.Length == 0 || !char.IsAsciiDigit(pid[0]) || pid == self)
                    continue;
                try
                {
                    foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")))
                    {
                        if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target))
                            return $"{File.ReadAllText(Path.Combine(process, "comm")).Trim()} (pid {pid})";
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A process that ended, or one we may not look into: not the holder we can name.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
