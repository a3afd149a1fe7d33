using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Dhcp;

/// <summary>
/// A DHCP server for network boot: proxyDHCP (PXE 2.1) or full DHCP (RFC 2131/2132), on port 67 and on the PXE
/// boot-server port 4011. It asks <see cref="IDhcpBootPolicy"/> which file a boot client gets and stores leases
/// through <see cref="IDhcpLeaseStore"/>; an ACK leaves only after its lease is durable.
/// </summary>
public sealed partial class DhcpServer
{
    private readonly DhcpServerOptions _options;
    private readonly IDhcpBootPolicy _boot;
    private readonly IDhcpLeaseStore _store;
    private readonly IDatagramTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IPAddress, CancellationToken, Task<bool>>? _ping;
    private readonly DhcpLeaseTable _leases = new();
    private readonly byte[] _serverIdentifier;
    private readonly DhcpRateLimiter _rateLimiter;
    private long _lastRateLog;

    /// <param name="ping">Answers whether an address replies to ICMP echo; used before offering a never-leased
    /// address when <see cref="DhcpServerOptions.PingCheck"/> is set.</param>
    public DhcpServer(
        DhcpServerOptions options, IDhcpBootPolicy boot, IDhcpLeaseStore? store, IDatagramTransport transport,
        TimeProvider time, ILogger logger, Func<IPAddress, CancellationToken, Task<bool>>? ping = null)
    {
        _options = options;
        _boot = boot;
        _store = store ?? new InMemoryDhcpLeaseStore();
        _transport = transport;
        _time = time;
        _logger = logger;
        _ping = ping;
        _serverIdentifier = options.ServerAddress.GetAddressBytes();
        _rateLimiter = new DhcpRateLimiter(options.PerClientLimit, options.PerSegmentLimit, time);
        if (options.Mode == DhcpMode.Full)
        {
            var loaded = _store.Load();
            _leases.Load(loaded);
            DhcpLog.LeasesLoaded(logger, loaded.Count);
        }
    }

    /// <summary>Binds port 67 (and 4011 unless disabled) on <paramref name="listen"/> and serves until
    /// <paramref name="stopping"/> is cancelled. Binding errors throw here, except that proxy mode shares port 67
    /// with, or leaves it to, a DHCP server on this host (<see cref="DhcpPort67"/> says which).</summary>
    public DhcpStart Start(IPAddress listen, CancellationToken stopping)
    {
        var (main, port67) = BindServerPort(listen);
        IDatagramEndpoint? proxy = null;
        try
        {
            if (_options.ProxyPort != 0)
                proxy = _transport.Bind(new IPEndPoint(listen, _options.ProxyPort));
        }
        catch
        {
            main?.Dispose();
            throw;
        }
        if (main is null && proxy is null)
            throw new SocketException((int)SocketError.AddressAlreadyInUse);

        var tasks = new List<Task>();
        var endpoints = new List<IPEndPoint>();
        foreach (var (endpoint, isBootServerPort) in new[] { (main, false), (proxy, true) })
        {
            if (endpoint is null)
                continue;
            DhcpLog.Listening(_logger, _options.Mode, endpoint.LocalEndPoint, _options.ServerAddress);
            tasks.Add(ServeAsync(endpoint, isBootServerPort, stopping));
            endpoints.Add(endpoint.LocalEndPoint);
        }
        return new DhcpStart(endpoints, port67, Task.WhenAll(tasks));
    }

    /// <summary>
    /// Port 67. Full mode must own it: two servers handing out addresses on one network is a fault, so a port in use
    /// is an error. Proxy mode answers only broadcast DISCOVERs there, so when another DHCP server on this host holds
    /// the port (dnsmasq, Kea, a router's daemon) it binds beside it on the broadcast address, which that server's
    /// unicast traffic (renewals, relays) never reaches; and when the port cannot be shared it serves 4011 alone,
    /// where clients come when the DHCP server's OFFER carries option 60 "PXEClient" (PXE 2.1 §2.2.5, as WDS does).
    /// </summary>
    private (IDatagramEndpoint? Endpoint, DhcpPort67 Port67) BindServerPort(IPAddress listen)
    {
        try
        {
            return (_transport.Bind(new IPEndPoint(listen, _options.Port)), DhcpPort67.Owned);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && _options.Mode == DhcpMode.Proxy)
        {
        }
        try
        {
            return (_transport.BindShared(new IPEndPoint(IPAddress.Broadcast, _options.Port)), DhcpPort67.SharedForBroadcasts);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && _options.ProxyPort != 0)
        {
            return (null, DhcpPort67.Unavailable);
        }
    }

    private async Task ServeAsync(IDatagramEndpoint endpoint, bool isBootServerPort, CancellationToken stopping)
    {
        var buffer = new byte[DhcpLimits.ReceiveBufferLength];
        using (endpoint)
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    var received = await endpoint.ReceiveMessageFromAsync(buffer, stopping);
                    await HandleAsync(endpoint, buffer.AsMemory(0, received.Length), received.Remote, isBootServerPort, stopping);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidOperationException or ArgumentException)
                {
                    // One bad datagram or a transient socket fault must never end the listener.
                    DhcpLog.ReceiveFailed(_logger, endpoint.LocalEndPoint, e);
                }
            }
        }
    }

    /// <summary>Checks what every request must satisfy, then hands it to proxy or full handling.</summary>
    private async ValueTask HandleAsync(IDatagramEndpoint endpoint, ReadOnlyMemory<byte> datagram, IPEndPoint remote, bool isBootServerPort, CancellationToken stopping)
    {
        if (remote.Port == _options.ClientPort && remote.Address.Equals(_options.ServerAddress))
        {
            // Our own start-up probe for other DHCP servers (sent from our address, client port): answering it
            // would hold an address for a client that does not exist.
            DhcpLog.Dropped(_logger, remote, datagram.Length, "sent from our own address and the client port (our own probe)");
            return;
        }
        if (!DhcpPacket.TryParse(datagram.Span, out var request, out var error))
        {
            DhcpLog.Dropped(_logger, remote, datagram.Length, error!);
            return;
        }
        if (Refusal(request!) is { } reason)
        {
            DhcpLog.Dropped(_logger, remote, datagram.Length, reason);
            return;
        }
        Span<byte> relay = stackalloc byte[4];
        if (!request!.RelayAddress.TryWriteBytes(relay, out _))
            relay.Clear();
        if (!_rateLimiter.TryAcquire(request.HardwareAddress, relay))
        {
            ReportRateLimited();
            return;
        }
        var mac = request.HardwareAddressText;
        if (request.Anomaly is not null)
            DhcpLog.Anomaly(_logger, mac, request.Anomaly);
        ObserveReceived(request);

        if (isBootServerPort)
            await AnswerBootServerAsync(endpoint, request, remote, stopping);
        else if (_options.Mode == DhcpMode.Proxy)
            await AnswerProxyAsync(endpoint, request, stopping);
        else
            await AnswerFullAsync(endpoint, request, stopping);
    }

    /// <summary>One warning per ten seconds with the count, however many messages a flood brings.</summary>
    private void ReportRateLimited()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastRateLog);
        if (last != 0 && _time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(10))
            return;
        if (Interlocked.CompareExchange(ref _lastRateLog, now, last) == last)
            DhcpLog.RateLimited(_logger, _rateLimiter.TakeDropped(), _options.PerClientLimit.PerSecond, _options.PerSegmentLimit.PerSecond);
    }

    /// <summary>Why a parsed request is not served (dnsmasq's dhcp_reply checks, hostile-inputs D2, D8), or null.</summary>
    private static string? Refusal(DhcpPacket request)
    {
        if (request.Op != DhcpOp.BootRequest)
            return "op is BOOTREPLY on the server port";
        if (request.HardwareType == 0 && request.HardwareLength != 0)
            return $"htype 0 with hlen {request.HardwareLength}";
        if (request.HardwareLength == 0)
            return "hlen 0: no hardware address to answer";
        if (request.MessageType is null)
            return "no valid DHCP message type (option 53)";
        if (request.TryGetOption(DhcpOptionCode.RelayAgentInformation, out var agent))
        {
            // RFC 3046 §2.1: only a relay adds option 82, and a relay sets giaddr. A client that sends its own is
            // forging circuit ids (ISC dhcpd drops these too).
            if (request.RelayAddress.Equals(IPAddress.Any))
                return "option 82 without a relay address (giaddr 0)";
            if (RelayAgentProblem(agent) is { } problem)
                return problem;
        }
        return null;
    }

    /// <summary>Sub-options of option 82 must tile the option exactly (hostile-inputs D8).</summary>
    internal static string? RelayAgentProblem(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length)
        {
            if (i + 2 > value.Length)
                return $"option 82 sub-option at offset {i} has no length byte";
            int length = value[i + 1];
            var remaining = value.Length - i - 2;
            if (length > remaining)
                return $"option 82 sub-option {value[i]} claims {length} bytes, {remaining} remain";
            i += 2 + length;
        }
        return null;
    }

    private DhcpBootChoice? ChooseBoot(DhcpPacket request, PxeClientInfo client, string mac)
    {
        if (!client.IsBootClient)
            return null;
        var choice = _boot.Choose(new DhcpBootRequest(mac, client, _options.ServerAddress));
        if (choice is null)
            DhcpLog.NotBooted(_logger, mac, client.ToString());
        return choice;
    }

    /// <summary>
    /// The reply skeleton of RFC 2131 §4.3.1 table 3: xid, flags, giaddr and chaddr copied; then options in the
    /// order 53, 54, lease and subnet options, boot options, and option 82 verbatim as the last one (RFC 3046 §2.2).
    /// </summary>
    private DhcpPacket BuildReply(
        DhcpPacket request, DhcpMessageType type, IPAddress yourAddress, DhcpSubnet? subnet, TimeSpan? leaseTime,
        PxeClientInfo? client, DhcpBootChoice? boot)
    {
        var options = new List<DhcpOption>(16)
        {
            new(DhcpOptionCode.MessageType, [(byte)type]),
            new(DhcpOptionCode.ServerIdentifier, _serverIdentifier),
        };
        if (leaseTime is { } lease)
        {
            var seconds = (uint)Math.Min(lease.TotalSeconds, uint.MaxValue - 1);
            options.Add(new(DhcpOptionCode.LeaseTime, UInt32(seconds)));
            options.Add(new(DhcpOptionCode.RenewalTime, UInt32(seconds / 2)));          // T1 = 0.5 × lease (RFC 2131 §4.4.5)
            options.Add(new(DhcpOptionCode.RebindingTime, UInt32(seconds / 8 * 7)));   // T2 = 0.875 × lease
        }
        if (subnet is not null && type != DhcpMessageType.Nak)
        {
            options.Add(new(DhcpOptionCode.SubnetMask, subnet.SubnetMask.GetAddressBytes()));
            AddAddresses(options, DhcpOptionCode.Router, subnet.Routers);
            AddAddresses(options, DhcpOptionCode.DomainNameServer, subnet.DnsServers);
            if (subnet.DomainName is { Length: > 0 } domain)
                options.Add(new(DhcpOptionCode.DomainName, Encoding.ASCII.GetBytes(domain)));
            AddAddresses(options, DhcpOptionCode.NtpServers, subnet.NtpServers);
            options.AddRange(subnet.CustomOptions);
        }

        var serverAddress = IPAddress.Any;
        var file = "";
        if (boot is not null && client is not null)
        {
            // PXE 2.1 §2.2.1: a boot server names itself with option 60; a UEFI HTTP Boot client only takes offers
            // that say "HTTPClient" (UEFI 2.5 §24.7.2).
            options.Add(new(DhcpOptionCode.VendorClassIdentifier, client.IsHttpClient ? "HTTPClient"u8.ToArray() : "PXEClient"u8.ToArray()));
            if (client.IsPxeClient && !client.IsHttpClient)
                options.Add(new(DhcpOptionCode.VendorSpecific, [PxeVendorOption.DiscoveryControl, 1, PxeVendorOption.DiscoveryUseBootFile, (byte)DhcpOptionCode.End]));
            if (client.MachineIdentifier is { } uuid)
                options.Add(new(DhcpOptionCode.ClientMachineIdentifier, uuid));
            serverAddress = boot.NextServer ?? _options.ServerAddress;
            options.Add(new(DhcpOptionCode.TftpServerName, Encoding.ASCII.GetBytes(serverAddress.ToString())));
            options.Add(new(DhcpOptionCode.BootFileName, Encoding.ASCII.GetBytes(boot.BootFile)));
            if (boot.BootFile.Length < DhcpLimits.FileLength)
                file = boot.BootFile; // old ROMs read only the file field; longer names travel in option 67 alone
            if (boot.WindowsBcdPath is { } bcd)
                options.Add(new(DhcpOptionCode.WindowsBcdPath, Encoding.ASCII.GetBytes(bcd)));
        }

        DhcpOption? agent = request.TryGetOption(DhcpOptionCode.RelayAgentInformation, out var v82)
            ? new DhcpOption(DhcpOptionCode.RelayAgentInformation, v82)
            : null;
        if (agent is { } a)
            options.Add(a);

        var reply = new DhcpPacket
        {
            Op = DhcpOp.BootReply,
            HardwareType = request.HardwareType,
            HardwareLength = request.HardwareLength,
            TransactionId = request.TransactionId,
            Flags = request.Flags,
            ClientAddress = type is DhcpMessageType.Ack or DhcpMessageType.Offer && !request.ClientAddress.Equals(IPAddress.Any)
                ? request.ClientAddress
                : IPAddress.Any,
            YourAddress = yourAddress,
            ServerAddress = serverAddress,
            RelayAddress = request.RelayAddress,
            ClientHardwareAddress = request.ClientHardwareAddress,
            File = file,
            Options = options,
        };
        FitTo(reply, request.MaxReplyLength);
        return reply;
    }

    /// <summary>Drops options from the end (never 53, 54 or 82) until the reply fits the client's maximum
    /// message size (hostile-inputs D8, D9).</summary>
    private static void FitTo(DhcpPacket reply, int maxLength)
    {
        var options = reply.Options;
        for (var i = options.Count - 1; i >= 2 && reply.GetEncodedLength() > maxLength; i--)
        {
            if (options[i].Code == (byte)DhcpOptionCode.RelayAgentInformation)
                continue;
            options.RemoveAt(i);
        }
    }

    private static void AddAddresses(List<DhcpOption> options, DhcpOptionCode code, List<IPAddress> addresses)
    {
        if (addresses.Count == 0)
            return;
        var value = new byte[addresses.Count * 4];
        for (var i = 0; i < addresses.Count; i++)
            addresses[i].TryWriteBytes(value.AsSpan(i * 4), out _);
        options.Add(new(code, value));
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>
    /// RFC 2131 §4.1: through a relay to giaddr:67; to a client with an address (ciaddr) by unicast; otherwise by
    /// broadcast, because a client without an address cannot answer ARP for yiaddr. NAKs go by broadcast.
    /// </summary>
    private IPEndPoint Destination(DhcpPacket request, DhcpMessageType type)
    {
        if (!request.RelayAddress.Equals(IPAddress.Any))
            return new IPEndPoint(request.RelayAddress, _options.Port);
        if (type != DhcpMessageType.Nak && !request.ClientAddress.Equals(IPAddress.Any))
            return new IPEndPoint(request.ClientAddress, _options.ClientPort);
        return new IPEndPoint(IPAddress.Broadcast, _options.ClientPort);
    }

    private static async ValueTask SendAsync(IDatagramEndpoint endpoint, DhcpPacket reply, IPEndPoint destination, CancellationToken stopping)
    {
        var length = reply.GetEncodedLength();
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            reply.WriteTo(buffer);
            await endpoint.SendToAsync(buffer.AsMemory(0, length), destination.Serialize(), stopping);
        }
        catch (SocketException)
        {
            // Unreachable client or relay: it will retransmit.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
