namespace PxeKit.Server.Boot;

/// <summary>
/// Reads back what <see cref="IBootTrace"/> recorded, for `pxekit doctor trace` and the web UI. The store behind it
/// decides how far back it keeps events.
/// </summary>
public interface IBootTraceReader
{
    /// <summary>The client as last seen, or null when the store has never seen <paramref name="mac"/> (normalised,
    /// "52:54:00:12:34:56").</summary>
    BootClient? Client(string mac);

    /// <summary>The client's most recent events, at most <paramref name="maxEvents"/>, oldest first.</summary>
    IReadOnlyList<BootEvent> Events(string mac, int maxEvents);
}
