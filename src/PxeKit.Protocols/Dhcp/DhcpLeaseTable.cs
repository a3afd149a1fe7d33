using System.Net;

namespace PxeKit.Protocols.Dhcp;

/// <summary>
/// Addresses of a full DHCP server in memory: stored leases (loaded at start, replaced on every commit) and
/// offers that are held for a short time but never stored (hostile-inputs D14). Used by one receive loop only,
/// so it needs no lock.
/// </summary>
internal sealed class DhcpLeaseTable
{
    private readonly Dictionary<uint, DhcpLease> _byAddress = [];
    private readonly Dictionary<string, uint> _byMac = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (uint Address, DateTimeOffset Until)> _offers = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, string> _offeredTo = [];
    private readonly Dictionary<DhcpSubnet, uint> _cursor = [];

    /// <summary>Offers kept at most; beyond it the oldest are forgotten (bounded memory under a DISCOVER flood, D15).</summary>
    private const int MaxOffers = 65536;

    public int Count => _byAddress.Count;

    public void Load(IEnumerable<DhcpLease> leases)
    {
        foreach (var lease in leases)
            Put(lease);
    }

    public void Put(DhcpLease lease)
    {
        var address = DhcpSubnet.ToUInt32(lease.Address);
        if (_byAddress.TryGetValue(address, out var old) && _byMac.TryGetValue(old.HardwareAddress, out var a) && a == address)
            _byMac.Remove(old.HardwareAddress);
        _byAddress[address] = lease;
        if (lease.State != DhcpLeaseState.Declined)
        {
            // A client has one address: drop its older one from the index (the row stays, as a released lease).
            _byMac[lease.HardwareAddress] = address;
        }
    }

    public DhcpLease? ByAddress(IPAddress address) => _byAddress.GetValueOrDefault(DhcpSubnet.ToUInt32(address));

    public DhcpLease? ByMac(string mac) => _byMac.TryGetValue(mac, out var a) ? _byAddress.GetValueOrDefault(a) : null;

    public void Offer(string mac, uint address, DateTimeOffset until)
    {
        if (_offers.Count >= MaxOffers)
            ExpireOffers(DateTimeOffset.MaxValue);
        ClearOffer(mac);
        _offers[mac] = (address, until);
        _offeredTo[address] = mac;
    }

    public uint? OfferFor(string mac, DateTimeOffset now) =>
        _offers.TryGetValue(mac, out var o) && o.Until > now ? o.Address : null;

    public void ClearOffer(string mac)
    {
        if (_offers.Remove(mac, out var o) && _offeredTo.TryGetValue(o.Address, out var m) && m == mac)
            _offeredTo.Remove(o.Address);
    }

    private void ExpireOffers(DateTimeOffset now)
    {
        foreach (var (mac, offer) in _offers.ToList())
        {
            if (offer.Until <= now)
                ClearOffer(mac);
        }
    }

    /// <summary>True when <paramref name="mac"/> may be given <paramref name="address"/> now: nobody else holds an
    /// unexpired lease on it, it is not declined or reserved for another client, and no live offer for someone else
    /// holds it.</summary>
    public bool IsFreeFor(uint address, string mac, DhcpSubnet subnet, DateTimeOffset now)
    {
        if (_byAddress.TryGetValue(address, out var lease))
        {
            if (lease.State == DhcpLeaseState.Declined && lease.Expires > now)
                return false;
            if (lease.HardwareAddress != mac && lease.State == DhcpLeaseState.Active && lease.Expires > now)
                return false;
        }
        if (_offeredTo.TryGetValue(address, out var other) && other != mac && _offers.TryGetValue(other, out var o) && o.Until > now)
            return false;
        foreach (var (reservedMac, reserved) in subnet.Reservations)
        {
            if (!string.Equals(reservedMac, mac, StringComparison.OrdinalIgnoreCase) && DhcpSubnet.ToUInt32(reserved) == address)
                return false;
        }
        return true;
    }

    /// <summary>The next free address of the range, scanning round from where the last search stopped; addresses
    /// never leased come before ones released by another client, so a returning client finds its old one.</summary>
    public uint? FindFree(DhcpSubnet subnet, string mac, DateTimeOffset now, Func<uint, bool> acceptable)
    {
        if (subnet.RangeStart is null || subnet.RangeEnd is null)
            return null;
        var start = DhcpSubnet.ToUInt32(subnet.RangeStart);
        var end = DhcpSubnet.ToUInt32(subnet.RangeEnd);
        var size = (long)end - start + 1;
        var cursor = _cursor.GetValueOrDefault(subnet, start);
        uint? fallback = null;
        for (long i = 0; i < size; i++)
        {
            var candidate = (uint)(start + ((cursor - start + i) % size));
            if (!IsFreeFor(candidate, mac, subnet, now))
                continue;
            if (_byAddress.ContainsKey(candidate))
            {
                fallback ??= candidate;
                continue;
            }
            if (!acceptable(candidate))
                continue;
            _cursor[subnet] = candidate == end ? start : candidate + 1;
            return candidate;
        }
        return fallback is { } f && acceptable(f) ? f : null;
    }
}
