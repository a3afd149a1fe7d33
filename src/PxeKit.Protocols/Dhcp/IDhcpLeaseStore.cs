using System.Net;

namespace PxeKit.Protocols.Dhcp;

public enum DhcpLeaseState
{
    /// <summary>Bound to <see cref="DhcpLease.HardwareAddress"/> until <see cref="DhcpLease.Expires"/>.</summary>
    Active,

    /// <summary>Given back (DHCPRELEASE) or expired; remembered so the same client gets the same address again.</summary>
    Released,

    /// <summary>A client said the address is in use (DHCPDECLINE); out of the pool until <see cref="DhcpLease.Expires"/>.</summary>
    Declined,
}

/// <summary>One address and who holds it. Host name and client identifier are already sanitised and capped.</summary>
public sealed record DhcpLease(
    IPAddress Address, string HardwareAddress, DateTimeOffset Expires, DhcpLeaseState State, string? HostName = null, string? ClientId = null);

/// <summary>
/// Where leases live between restarts. The DHCP server sends an ACK only after <see cref="SaveAsync"/> completes,
/// so an implementation must complete it only once the lease is durable (fsync'd); it may batch several leases in
/// one commit to keep up with a PXE storm.
/// </summary>
public interface IDhcpLeaseStore
{
    /// <summary>Every stored lease (one per address), read once at start.</summary>
    IReadOnlyList<DhcpLease> Load();

    /// <summary>Stores (replaces) the lease for <see cref="DhcpLease.Address"/>; completes when durable.</summary>
    Task SaveAsync(DhcpLease lease, CancellationToken cancellationToken);
}

/// <summary>A lease store in memory, for proxy mode and tests: nothing survives the process.</summary>
public sealed class InMemoryDhcpLeaseStore : IDhcpLeaseStore
{
    private readonly Dictionary<IPAddress, DhcpLease> _leases = [];

    public IReadOnlyList<DhcpLease> Load()
    {
        lock (_leases)
            return [.. _leases.Values];
    }

    public Task SaveAsync(DhcpLease lease, CancellationToken cancellationToken)
    {
        lock (_leases)
            _leases[lease.Address] = lease;
        return Task.CompletedTask;
    }
}
