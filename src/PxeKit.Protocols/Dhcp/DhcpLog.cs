using System.Net;
using Microsoft.Extensions.Logging;

namespace PxeKit.Protocols.Dhcp;

/// <summary>DHCP log lines (event IDs 2000-2099). Client mistakes at Debug, leases and boot answers at Information,
/// our own faults at Warning or Error.</summary>
internal static partial class DhcpLog
{
    [LoggerMessage(2000, LogLevel.Information, "DHCP ({Mode}) listening on udp {EndPoint} as {ServerAddress}")]
    public static partial void Listening(ILogger logger, DhcpMode mode, IPEndPoint endPoint, IPAddress serverAddress);

    [LoggerMessage(2001, LogLevel.Information, "DHCP OFFER {Address} to {Mac} (xid 0x{TransactionId:x8}){Boot}")]
    public static partial void Offered(ILogger logger, IPAddress address, string mac, uint transactionId, string boot);

    [LoggerMessage(2002, LogLevel.Information, "DHCP ACK {Address} to {Mac} for {LeaseSeconds} s{Boot}")]
    public static partial void Acked(ILogger logger, IPAddress address, string mac, long leaseSeconds, string boot);

    [LoggerMessage(2003, LogLevel.Information, "DHCP NAK to {Mac} for {Address}: {Reason}")]
    public static partial void Nak(ILogger logger, string mac, IPAddress? address, string reason);

    [LoggerMessage(2004, LogLevel.Information, "DHCP RELEASE of {Address} by {Mac}")]
    public static partial void Released(ILogger logger, IPAddress address, string mac);

    [LoggerMessage(2005, LogLevel.Warning, "DHCP DECLINE of {Address} by {Mac}: the address is in use by someone else; out of the pool until {Until}")]
    public static partial void Declined(ILogger logger, IPAddress address, string mac, DateTimeOffset until);

    [LoggerMessage(2006, LogLevel.Debug, "DHCP dropped a {Length}-byte datagram from {Client}: {Reason}")]
    public static partial void Dropped(ILogger logger, IPEndPoint client, int length, string reason);

    [LoggerMessage(2007, LogLevel.Information, "DHCP proxy {Kind} to {Mac} ({Client}): {BootFile}")]
    public static partial void ProxyAnswered(ILogger logger, string kind, string mac, string client, string bootFile);

    [LoggerMessage(2008, LogLevel.Debug, "DHCP ignored {Type} from {Mac}: {Reason}")]
    public static partial void Ignored(ILogger logger, DhcpMessageType type, string mac, string reason);

    [LoggerMessage(2009, LogLevel.Error, "DHCP receive loop on {EndPoint} failed; continuing")]
    public static partial void ReceiveFailed(ILogger logger, IPEndPoint endPoint, Exception exception);

    [LoggerMessage(2010, LogLevel.Warning, "DHCP pool {Subnet} is exhausted: no address for {Mac}")]
    public static partial void PoolExhausted(ILogger logger, string subnet, string mac);

    [LoggerMessage(2011, LogLevel.Information, "DHCP INFORM from {Mac} at {Address}: answered with options only")]
    public static partial void Informed(ILogger logger, string mac, IPAddress address);

    [LoggerMessage(2012, LogLevel.Error, "DHCP could not store the lease of {Address} for {Mac}; no ACK sent")]
    public static partial void CommitFailed(ILogger logger, IPAddress address, string mac, Exception exception);

    [LoggerMessage(2013, LogLevel.Debug, "DHCP {Mac} ({Client}) is a boot client the policy does not boot; no boot options")]
    public static partial void NotBooted(ILogger logger, string mac, string client);

    [LoggerMessage(2014, LogLevel.Debug, "DHCP request from {Mac}: {Anomaly}")]
    public static partial void Anomaly(ILogger logger, string mac, string anomaly);

    [LoggerMessage(2015, LogLevel.Warning, "DHCP {Address} answers ping; not offered, out of the pool for a while")]
    public static partial void AddressInUse(ILogger logger, IPAddress address);

    [LoggerMessage(2016, LogLevel.Information, "DHCP loaded {Count} leases")]
    public static partial void LeasesLoaded(ILogger logger, int count);

    [LoggerMessage(2017, LogLevel.Warning, "DHCP dropped {Count} messages over the rate limits ({PerClient}/s per client MAC, {PerSegment}/s per network segment): a client retrying in a loop, or a flood (hostile-inputs D14)")]
    public static partial void RateLimited(ILogger logger, long count, double perClient, double perSegment);

    [LoggerMessage(2050, LogLevel.Warning, "DHCP observer (boot trace) failed on a message from {Mac}; the client is answered regardless")]
    public static partial void ObserverFailed(ILogger logger, string mac, Exception exception);
}
