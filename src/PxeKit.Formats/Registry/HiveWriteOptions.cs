namespace PxeKit.Formats.Registry;

/// <summary>What the writer stamps into a hive besides the tree itself.</summary>
public sealed class HiveWriteOptions
{
    /// <summary>
    /// FILETIME written to the base block, the first bin and every key created or changed in memory. Null means
    /// "now" from <see cref="TimeProvider"/>; pass a fixed time for byte-reproducible output (tests, generated BCDs).
    /// </summary>
    public DateTimeOffset? Timestamp { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Primary and secondary sequence numbers; always equal, or Windows treats the hive as dirty (spec §1.2).</summary>
    public uint SequenceNumber { get; init; } = 1;

    /// <summary>The spec's reference timestamp, 2024-01-01T00:00:00Z (FILETIME 133485408000000000).</summary>
    public static DateTimeOffset ReferenceTimestamp { get; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
