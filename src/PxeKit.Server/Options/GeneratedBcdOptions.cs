namespace PxeKit.Server.Options;

/// <summary>One BCD store that the server builds from a recipe and serves at <see cref="Path"/>, instead of a file
/// copied from a Windows machine (`bcd:` in pxekit.yaml).</summary>
public sealed class GeneratedBcdOptions
{
    /// <summary>Where clients find it, relative to the root (e.g. <c>boot/bcd</c>; a Windows client's <c>\Boot\BCD</c>
    /// maps to it like any file).</summary>
    public required string Path { get; init; }

    /// <summary><c>winpe</c>, <c>windows</c> or <c>vhd</c>, as in <c>pxekit bcd</c>.</summary>
    public required string Recipe { get; init; }

    public bool Uefi { get; init; }
    public string? Wim { get; init; }
    public string? Sdi { get; init; }

    /// <summary>For <c>windows</c>: <c>boot</c>, <c>locate</c> or <c>locate-path</c>.</summary>
    public string? Device { get; init; }

    /// <summary>For <c>vhd</c>: the image path on the boot partition.</summary>
    public string? Vhd { get; init; }

    public int Line { get; init; }
}
