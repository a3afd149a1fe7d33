using System.Net;

namespace PxeKit.Server.Boot;

/// <summary>
/// Reading boot traces back (<c>pxekit clients</c>, <c>pxekit trace</c>, <c>pxekit doctor</c>, the web UI).
/// Queries read storage; they are for people and tools, never for the path that answers a client (that is
/// <see cref="IBootTrace.FindByMac"/> and <see cref="IBootTrace.MacForAddress"/>, which stay in memory).
/// </summary>
/// <remarks>
/// A <b>boot</b> is a run of one client's events. The trace numbers boots as it records: a new boot starts at an
/// event with <see cref="BootEvent.StartsBoot"/> (firmware's DHCP DISCOVER) unless the client's previous event was a
/// DISCOVER or an OFFER (a retransmission), and at any event more than <see cref="BootGap"/> after the client's
/// previous one. Boot numbers are unique across clients and only grow. Events recorded with no MAC (one could not
/// be resolved from the address) form boots of their own, keyed by address.
/// </remarks>
public interface IBootTraceQuery
{
    /// <summary>Silence after which a client's next event starts a new boot.</summary>
    static TimeSpan BootGap => TimeSpan.FromMinutes(10);

    /// <summary>Every known client, most recently seen first.</summary>
    IReadOnlyList<TracedClient> Clients();

    /// <summary>The client with this MAC (any spelling <see cref="MacAddress.TryNormalize"/> reads), or null.</summary>
    TracedClient? FindClient(string mac);

    /// <summary>The newest <paramref name="count"/> boots of a client, oldest first, each with its events in order.</summary>
    IReadOnlyList<TracedBoot> Boots(string mac, int count);

    /// <summary>The newest <paramref name="count"/> boots recorded under <paramref name="address"/> with no MAC.</summary>
    IReadOnlyList<TracedBoot> BootsWithoutMac(IPAddress address, int count);

    /// <summary>Events of every client at or after <paramref name="since"/>, oldest first, at most
    /// <paramref name="limit"/> (the newest ones when there are more).</summary>
    IReadOnlyList<BootEvent> EventsSince(DateTimeOffset since, int limit);
}

/// <summary>A client as the trace knows it, with how many of its boots the trace still holds.</summary>
public sealed record TracedClient(BootClient Client, int Boots);

/// <summary>One boot of a client: its number (see <see cref="IBootTraceQuery"/>) and its events in order.</summary>
public sealed record TracedBoot(long Number, IReadOnlyList<BootEvent> Events)
{
    public DateTimeOffset Start => Events[0].Time;

    public DateTimeOffset End => Events[^1].Time;
}
