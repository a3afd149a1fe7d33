using System.Buffers;
using System.Net;
using PxeKit.Protocols.Buffers;

namespace PxeKit.Protocols.Dhcp;

public sealed partial class DhcpServer
{
    /// <summary>Full DHCP (RFC 2131 §4.3): one receive loop owns the lease table, so the state machine needs no lock.</summary>
    private async ValueTask AnswerFullAsync(IDatagramEndpoint endpoint, DhcpPacket request, CancellationToken stopping)
    {
        var type = request.MessageType!.Value;
        var mac = request.HardwareAddressText;
        var subnet = SubnetFor(request);
        if (subnet is null)
        {
            // Kea CVE-2025-40779 asserted here; we only say why (hostile-inputs D13).
            DhcpLog.Ignored(_logger, type, mac, $"no configured subnet matches giaddr {request.RelayAddress} / ciaddr {request.ClientAddress}");
            return;
        }
        switch (type)
        {
            case DhcpMessageType.Discover:
                await DiscoverAsync(endpoint, request, subnet, mac, stopping);
                break;
            case DhcpMessageType.Request:
                await RequestAsync(endpoint, request, subnet, mac, stopping);
                break;
            case DhcpMessageType.Release:
                await ReleaseAsync(request, mac, stopping);
                break;
            case DhcpMessageType.Decline:
                await DeclineAsync(request, mac, stopping);
                break;
            case DhcpMessageType.Inform:
                await InformAsync(endpoint, request, subnet, mac, stopping);
                break;
            default:
                DhcpLog.Ignored(_logger, type, mac, "servers do not answer this message type");
                break;
        }
    }

    /// <summary>RFC 2131 §4.3.1: the subnet of giaddr when relayed, else of ciaddr when the client has one, else the
    /// subnet our own address is on (the interface the broadcast arrived on).</summary>
    private DhcpSubnet? SubnetFor(DhcpPacket request)
    {
        var key = !request.RelayAddress.Equals(IPAddress.Any) ? request.RelayAddress
            : !request.ClientAddress.Equals(IPAddress.Any) ? request.ClientAddress
            : _options.ServerAddress;
        foreach (var subnet in _options.Subnets)
        {
            if (subnet.Contains(key))
                return subnet;
        }
        return null;
    }

    private async ValueTask DiscoverAsync(IDatagramEndpoint endpoint, DhcpPacket request, DhcpSubnet subnet, string mac, CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        var address = await ChooseAddressAsync(request, subnet, mac, now, stopping);
        if (address is null)
        {
            DhcpLog.PoolExhausted(_logger, subnet.ToString(), mac);
            return;
        }
        _leases.Offer(mac, address.Value, now + _options.OfferHold);
        var client = PxeClientInfo.From(request);
        var boot = ChooseBoot(request, client, mac);
        var yiaddr = DhcpSubnet.ToAddress(address.Value);
        var reply = BuildReply(request, DhcpMessageType.Offer, yiaddr, subnet, subnet.LeaseTime, client, boot);
        DhcpLog.Offered(_logger, yiaddr, mac, request.TransactionId, boot is null ? "" : ", boot " + boot.BootFile);
        ObserveReply(request, DhcpMessageType.Offer, proxy: false, client, yiaddr, boot);
        await SendAsync(endpoint, reply, Destination(request, DhcpMessageType.Offer), stopping);
    }

    /// <summary>Reservation, then the client's current or last address, then the address it asks for, then the
    /// next free one of the range (pinged first when configured).</summary>
    private async ValueTask<uint?> ChooseAddressAsync(DhcpPacket request, DhcpSubnet subnet, string mac, DateTimeOffset now, CancellationToken stopping)
    {
        if (subnet.Reservations.TryGetValue(mac, out var reserved))
            return DhcpSubnet.ToUInt32(reserved);
        if (_leases.OfferFor(mac, now) is { } offered)
            return offered;
        if (_leases.ByMac(mac) is { } lease && subnet.Contains(lease.Address))
        {
            var a = DhcpSubnet.ToUInt32(lease.Address);
            if (_leases.IsFreeFor(a, mac, subnet, now) && (subnet.InRange(a) || lease.State == DhcpLeaseState.Active))
                return a;
        }
        if (request.GetAddress(DhcpOptionCode.RequestedIpAddress) is { } wanted && subnet.Contains(wanted))
        {
            var a = DhcpSubnet.ToUInt32(wanted);
            if (subnet.InRange(a) && _leases.IsFreeFor(a, mac, subnet, now))
                return a;
        }
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var candidate = _leases.FindFree(subnet, mac, now, _ => true);
            if (candidate is null)
                return null;
            if (!_options.PingCheck || _ping is null || _leases.ByAddress(DhcpSubnet.ToAddress(candidate.Value)) is not null)
                return candidate;
            var address = DhcpSubnet.ToAddress(candidate.Value);
            if (!await _ping(address, stopping))
                return candidate;
            // Someone squats on it: keep it out of the pool like a declined address (RFC 2131 §2.2).
            DhcpLog.AddressInUse(_logger, address);
            _leases.Put(new DhcpLease(address, "", now + _options.DeclineProbation, DhcpLeaseState.Declined));
        }
        return null;
    }

    /// <summary>RFC 2131 §4.3.2: SELECTING (server id), INIT-REBOOT (no ciaddr, option 50), RENEWING/REBINDING (ciaddr).</summary>
    private async ValueTask RequestAsync(IDatagramEndpoint endpoint, DhcpPacket request, DhcpSubnet subnet, string mac, CancellationToken stopping)
    {
        var now = _time.GetUtcNow();
        var serverId = request.GetAddress(DhcpOptionCode.ServerIdentifier);
        var requested = request.GetAddress(DhcpOptionCode.RequestedIpAddress);
        IPAddress? address;
        if (serverId is not null)
        {
            if (!serverId.Equals(_options.ServerAddress))
            {
                // The client chose another server's offer: free ours at once (hostile-inputs D12: stay silent).
                _leases.ClearOffer(mac);
                DhcpLog.Ignored(_logger, DhcpMessageType.Request, mac, $"it selected server {serverId}");
                return;
            }
            address = requested ?? (request.ClientAddress.Equals(IPAddress.Any) ? null : request.ClientAddress);
            var offered = _leases.OfferFor(mac, now);
            var current = _leases.ByMac(mac);
            var ok = address is not null && subnet.Contains(address)
                && (offered == DhcpSubnet.ToUInt32(address) || (current is not null && current.Address.Equals(address))
                    || subnet.Reservations.TryGetValue(mac, out var r) && r.Equals(address))
                && _leases.IsFreeFor(DhcpSubnet.ToUInt32(address), mac, subnet, now);
            if (!ok)
            {
                await NakAsync(endpoint, request, mac, address, "the address was not offered to this client or is taken", stopping);
                return;
            }
        }
        else
        {
            var renewing = !request.ClientAddress.Equals(IPAddress.Any);
            address = renewing ? request.ClientAddress : requested;
            if (address is null)
            {
                DhcpLog.Ignored(_logger, DhcpMessageType.Request, mac, "neither ciaddr nor a requested address");
                return;
            }
            if (!subnet.Contains(address))
            {
                // INIT-REBOOT on a network the client has left: RFC 2131 §4.3.2 says NAK ("client on wrong network").
                if (_options.Authoritative || !renewing)
                    await NakAsync(endpoint, request, mac, address, $"{address} is not on {subnet}", stopping);
                return;
            }
            var current = _leases.ByAddress(address);
            var mine = current is not null && current.HardwareAddress == mac && current.State != DhcpLeaseState.Declined;
            var reservedForMe = subnet.Reservations.TryGetValue(mac, out var r) && r.Equals(address);
            if (!mine && !reservedForMe)
            {
                var owned = current is not null && current.HardwareAddress != mac && current.State == DhcpLeaseState.Active && current.Expires > now;
                if (owned || (_leases.ByMac(mac) is { } other && !other.Address.Equals(address)) || _options.Authoritative)
                    await NakAsync(endpoint, request, mac, address, "no lease of this address for this client", stopping);
                else
                    DhcpLog.Ignored(_logger, DhcpMessageType.Request, mac, $"no record of {address}; not authoritative");
                return;
            }
            if (!_leases.IsFreeFor(DhcpSubnet.ToUInt32(address), mac, subnet, now))
            {
                await NakAsync(endpoint, request, mac, address, "the address is declined or taken", stopping);
                return;
            }
        }

        var hostName = request.TryGetOption(DhcpOptionCode.HostName, out var v12) ? DhcpText.SanitizeHostName(v12) : null;
        var clientId = request.TryGetOption(DhcpOptionCode.ClientIdentifier, out var v61) ? Convert.ToHexString(v61) : null;
        var lease = new DhcpLease(address!, mac, now + subnet.LeaseTime, DhcpLeaseState.Active, hostName, clientId);
        _leases.Put(lease);
        _leases.ClearOffer(mac);
        var client = PxeClientInfo.From(request);
        var boot = ChooseBoot(request, client, mac);
        var reply = BuildReply(request, DhcpMessageType.Ack, address!, subnet, subnet.LeaseTime, client, boot);
        var destination = Destination(request, DhcpMessageType.Ack);
        var bootText = boot is null ? "" : ", boot " + boot.BootFile;

        // The ACK is encoded now and sent when the store says the lease is durable; the loop goes on meanwhile, so
        // that the store can commit a burst of leases in one transaction.
        var length = reply.GetEncodedLength();
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        reply.WriteTo(buffer);
        Task saved;
        try
        {
            saved = _store.SaveAsync(lease, stopping);
        }
        catch (Exception e)
        {
            saved = Task.FromException(e);
        }
        _ = SendWhenDurableAsync(endpoint, saved, buffer, length, destination, lease, (long)subnet.LeaseTime.TotalSeconds, bootText,
            (request, client, boot), stopping);
    }

    private async Task SendWhenDurableAsync(
        IDatagramEndpoint endpoint, Task saved, byte[] buffer, int length, IPEndPoint destination, DhcpLease lease,
        long leaseSeconds, string bootText, (DhcpPacket Request, PxeClientInfo Client, DhcpBootChoice? Boot) observed,
        CancellationToken stopping)
    {
        try
        {
            await saved;
            DhcpLog.Acked(_logger, lease.Address, lease.HardwareAddress, leaseSeconds, bootText);
            ObserveReply(observed.Request, DhcpMessageType.Ack, proxy: false, observed.Client, lease.Address, observed.Boot);
            await endpoint.SendToAsync(buffer.AsMemory(0, length), destination.Serialize(), stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException && !saved.IsCompletedSuccessfully)
        {
            // No ACK for a lease we could not store: the client retries, and nothing is promised that a restart forgets.
            DhcpLog.CommitFailed(_logger, lease.Address, lease.HardwareAddress, e);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The lease is stored; the client retransmits its REQUEST and gets the same answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask NakAsync(IDatagramEndpoint endpoint, DhcpPacket request, string mac, IPAddress? address, string reason, CancellationToken stopping)
    {
        DhcpLog.Nak(_logger, mac, address, reason);
        ObserveReply(request, DhcpMessageType.Nak, proxy: false, null, address, null, reason);
        var reply = BuildReply(request, DhcpMessageType.Nak, IPAddress.Any, null, null, null, null);
        await SendAsync(endpoint, reply, Destination(request, DhcpMessageType.Nak), stopping);
    }

    private async ValueTask ReleaseAsync(DhcpPacket request, string mac, CancellationToken stopping)
    {
        var serverId = request.GetAddress(DhcpOptionCode.ServerIdentifier);
        if (serverId is not null && !serverId.Equals(_options.ServerAddress))
        {
            DhcpLog.Ignored(_logger, DhcpMessageType.Release, mac, $"addressed to server {serverId}");
            return;
        }
        var lease = _leases.ByAddress(request.ClientAddress);
        if (lease is null || lease.HardwareAddress != mac || lease.State != DhcpLeaseState.Active)
        {
            DhcpLog.Ignored(_logger, DhcpMessageType.Release, mac, $"holds no lease of {request.ClientAddress}");
            return;
        }
        var released = lease with { State = DhcpLeaseState.Released, Expires = _time.GetUtcNow() };
        _leases.Put(released);
        DhcpLog.Released(_logger, lease.Address, mac);
        await SaveQuietlyAsync(released, stopping);
    }

    private async ValueTask DeclineAsync(DhcpPacket request, string mac, CancellationToken stopping)
    {
        var address = request.GetAddress(DhcpOptionCode.RequestedIpAddress);
        var serverId = request.GetAddress(DhcpOptionCode.ServerIdentifier);
        if (address is null || (serverId is not null && !serverId.Equals(_options.ServerAddress)))
        {
            DhcpLog.Ignored(_logger, DhcpMessageType.Decline, mac, "no requested address or another server's");
            return;
        }
        var lease = _leases.ByAddress(address);
        if (lease is null || lease.HardwareAddress != mac)
        {
            // Only the holder may decline; otherwise a DECLINE storm would empty the pool (hostile-inputs D18).
            DhcpLog.Ignored(_logger, DhcpMessageType.Decline, mac, $"holds no lease of {address}");
            return;
        }
        var until = _time.GetUtcNow() + _options.DeclineProbation;
        var declined = new DhcpLease(address, "", until, DhcpLeaseState.Declined);
        _leases.Put(declined);
        DhcpLog.Declined(_logger, address, mac, until);
        await SaveQuietlyAsync(declined, stopping);
    }

    private async ValueTask InformAsync(IDatagramEndpoint endpoint, DhcpPacket request, DhcpSubnet subnet, string mac, CancellationToken stopping)
    {
        if (request.ClientAddress.Equals(IPAddress.Any))
        {
            DhcpLog.Ignored(_logger, DhcpMessageType.Inform, mac, "INFORM without ciaddr");
            return;
        }
        var client = PxeClientInfo.From(request);
        var boot = ChooseBoot(request, client, mac);
        // RFC 2131 §4.3.5: no lease time, no yiaddr.
        var reply = BuildReply(request, DhcpMessageType.Ack, IPAddress.Any, subnet, null, client, boot);
        DhcpLog.Informed(_logger, mac, request.ClientAddress);
        ObserveReply(request, DhcpMessageType.Ack, proxy: false, client, request.ClientAddress, boot);
        await SendAsync(endpoint, reply, Destination(request, DhcpMessageType.Ack), stopping);
    }

    private async ValueTask SaveQuietlyAsync(DhcpLease lease, CancellationToken stopping)
    {
        try
        {
            await _store.SaveAsync(lease, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            DhcpLog.CommitFailed(_logger, lease.Address, lease.HardwareAddress, e);
        }
    }
}
