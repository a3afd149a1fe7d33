using System.Buffers.Binary;
using System.Net;

namespace PxeKit.Protocols.Dhcp;

public enum DhcpMode
{
    /// <summary>No DHCP at all: the site's DHCP server must name our next-server and file itself.</summary>
    Off,

    /// <summary>proxyDHCP (PXE 2.1 §2.2.5): answer PXE clients with boot options only, never an address.</summary>
    Proxy,

    /// <summary>A DHCP server (RFC 2131) that also answers PXE clients.</summary>
    Full,
}

/// <summary>Limits and behaviour of the DHCP server, with the reason for each default.</summary>
public sealed class DhcpServerOptions
{
    public DhcpMode Mode { get; set; } = DhcpMode.Proxy;

    /// <summary>Our address on the served network: server identifier (54), siaddr and the host in boot URLs.</summary>
    public IPAddress ServerAddress { get; set; } = IPAddress.Any;

    /// <summary>RFC 2131 §4.1: servers listen on 67.</summary>
    public int Port { get; set; } = DhcpLimits.ServerPort;

    /// <summary>Where replies to clients go; only tests change it.</summary>
    public int ClientPort { get; set; } = DhcpLimits.ClientPort;

    /// <summary>PXE 2.1 boot-server port; 0 disables it.</summary>
    public int ProxyPort { get; set; } = DhcpLimits.PxeBootServerPort;

    /// <summary>Answer REQUESTs we have no record of with NAK (RFC 2131 §4.3.2 "authoritative"). Off by default, as in
    /// Kea and dnsmasq without dhcp-authoritative: a server that shares a segment must stay silent (hostile-inputs D12).</summary>
    public bool Authoritative { get; set; }

    /// <summary>How long an OFFER holds its address without being written anywhere (Kea's offer-lifetime 0: a DISCOVER
    /// flood cannot fill the lease store, hostile-inputs D14).</summary>
    public TimeSpan OfferHold { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a declined address stays out of the pool (Kea's decline-probation-period default is 24 h;
    /// one hour keeps a small lab pool usable, hostile-inputs D18).</summary>
    public TimeSpan DeclineProbation { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Ping an address before offering it for the first time (RFC 2131 §2.2 SHOULD); off by default because
    /// it delays every new OFFER by <see cref="PingTimeout"/>.</summary>
    public bool PingCheck { get; set; }

    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    public List<DhcpSubnet> Subnets { get; set; } = [];

    /// <summary>Messages a second one client (chaddr) may send before the rest are dropped, with a burst of five
    /// seconds' worth. A PXE boot needs a few: firmware retries, iPXE, the kernel (hostile-inputs D14).</summary>
    public DhcpRateLimit PerClientLimit { get; set; } = new(PerSecond: 4, Burst: 20);

    /// <summary>Messages a second from one network segment (a relay's giaddr, or the local segment): bounds a flood of
    /// made-up MACs. 1 000/s is twice what perfdhcp reached against PxeKit and Kea here (bench/dhcp).</summary>
    public DhcpRateLimit PerSegmentLimit { get; set; } = new(PerSecond: 1000, Burst: 5000);

    /// <summary>Returns the first problem with these values, or null.</summary>
    public string? Validate()
    {
        if (Mode == DhcpMode.Off)
            return null;
        if (ServerAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ServerAddress.Equals(IPAddress.Any))
            return "the server needs its IPv4 address on the served network (set dhcp.interface or dhcp.server-address)";
        if (Mode == DhcpMode.Full && Subnets.Count == 0)
            return "full mode needs at least one subnet with a range (dhcp.subnets or --dhcp-range)";
        foreach (var subnet in Subnets)
        {
            if (subnet.Validate() is { } problem)
                return $"subnet {subnet}: {problem}";
        }
        return null;
    }
}

/// <summary>One subnet of a full DHCP server: its pool, reservations, lease time and options.</summary>
public sealed class DhcpSubnet
{
    public required IPAddress Network { get; set; }
    public required int PrefixLength { get; set; }
    public IPAddress? RangeStart { get; set; }
    public IPAddress? RangeEnd { get; set; }

    /// <summary>Twelve hours, dnsmasq's and ISC's usual choice: clients renew at T1 = 6 h.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromHours(12);

    public List<IPAddress> Routers { get; set; } = [];
    public List<IPAddress> DnsServers { get; set; } = [];
    public string? DomainName { get; set; }
    public List<IPAddress> NtpServers { get; set; } = [];

    /// <summary>MAC ("52:54:00:12:34:56") to address; reserved addresses may lie outside the range.</summary>
    public Dictionary<string, IPAddress> Reservations { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Any other option, by code, as raw bytes.</summary>
    public List<DhcpOption> CustomOptions { get; set; } = [];

    public uint Mask => PrefixLength == 0 ? 0 : uint.MaxValue << (32 - PrefixLength);

    public IPAddress SubnetMask
    {
        get
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, Mask);
            return new IPAddress(bytes);
        }
    }

    public bool Contains(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && (ToUInt32(address) & Mask) == (ToUInt32(Network) & Mask);

    public bool InRange(uint address) =>
        RangeStart is not null && RangeEnd is not null && address >= ToUInt32(RangeStart) && address <= ToUInt32(RangeEnd);

    public static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress ToAddress(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public string? Validate()
    {
        if (PrefixLength is < 8 or > 30)
            return $"prefix length {PrefixLength} is outside 8 to 30";
        if ((RangeStart is null) != (RangeEnd is null))
            return "a range needs both a start and an end";
        if (RangeStart is not null && RangeEnd is not null)
        {
            if (!Contains(RangeStart) || !Contains(RangeEnd))
                return $"range {RangeStart}-{RangeEnd} is not inside {Network}/{PrefixLength}";
            if (ToUInt32(RangeStart) > ToUInt32(RangeEnd))
                return $"range start {RangeStart} is after its end {RangeEnd}";
        }
        foreach (var (mac, address) in Reservations)
        {
            if (!Contains(address))
                return $"reservation {mac} -> {address} is not inside {Network}/{PrefixLength}";
        }
        if (LeaseTime < TimeSpan.FromSeconds(60) || LeaseTime > TimeSpan.FromDays(365))
            return "lease time must be between 1 minute and 365 days";
        return null;
    }

    public override string ToString() => $"{Network}/{PrefixLength}";
}
