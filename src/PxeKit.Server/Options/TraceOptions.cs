namespace PxeKit.Server.Options;

/// <summary>The <c>traces:</c> block of pxekit.yaml: boot traces in <c>traces.db</c> in the data directory.</summary>
public sealed class TraceOptions
{
    /// <summary>Record boot events on disk. When off, nothing is written; the client registry the boot policy asks
    /// (MAC by address, client by MAC) still works, in memory.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Events older than this are deleted. Two weeks covers "it booted last Monday and not today".</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>At most this many events are kept, the oldest deleted first. A full PXE + iPXE + kernel boot is
    /// 20-40 events and a row about 150 bytes, so the default is some 30 000 boots in about 150 MB.</summary>
    public int MaxEvents { get; set; } = 1_000_000;
}
