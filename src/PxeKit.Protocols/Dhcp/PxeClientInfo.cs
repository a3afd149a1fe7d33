using System.Buffers.Binary;
using System.Text;

namespace PxeKit.Protocols.Dhcp;

/// <summary>
/// What a DHCP request says about a network-boot client (PXE 2.1, RFC 4578, RFC 3004, iPXE). Parsing is tolerant:
/// a malformed option is treated as absent and never throws; an architecture that cannot be read is null, so the
/// policy falls back to its default rather than choosing a binary for another architecture (hostile-inputs D10).
/// </summary>
public sealed class PxeClientInfo
{
    private static readonly byte[] PxeClientPrefix = "PXEClient"u8.ToArray();
    private static readonly byte[] HttpClientPrefix = "HTTPClient"u8.ToArray();
    private static readonly byte[] IpxeUserClass = "iPXE"u8.ToArray();

    /// <summary>Option 60 starts with "PXEClient" (PXE 2.1 §2.2.1).</summary>
    public bool IsPxeClient { get; init; }

    /// <summary>Option 60 starts with "HTTPClient" (UEFI 2.5 §24.7 HTTP Boot).</summary>
    public bool IsHttpClient { get; init; }

    /// <summary>Option 93's first code, or the Arch field of option 60; null when neither can be read.</summary>
    public ushort? Architecture { get; init; }

    /// <summary>Option 94: UNDI major.minor, or null when absent or not 3 bytes (type 1 + 2 version bytes).</summary>
    public (byte Major, byte Minor)? UndiVersion { get; init; }

    /// <summary>Option 97: the machine UUID, only when it is 17 bytes with type 0 (RFC 4578 §2.3).</summary>
    public Guid? Uuid { get; init; }

    /// <summary>Raw option 97 when it was well formed, to echo back as PXE 2.1 asks.</summary>
    public byte[]? MachineIdentifier { get; init; }

    /// <summary>The request comes from iPXE: user class "iPXE" (raw or RFC 3004 counted) or option 175 present.</summary>
    public bool IsIpxe { get; init; }

    /// <summary>Option 60 as printable text (cut to 64 characters), for logs.</summary>
    public string? VendorClass { get; init; }

    /// <summary>True when there is anything to boot: a PXE or HTTP client, or iPXE.</summary>
    public bool IsBootClient => IsPxeClient || IsHttpClient || IsIpxe;

    public static PxeClientInfo From(DhcpPacket packet)
    {
        var vendor = packet.TryGetOption(DhcpOptionCode.VendorClassIdentifier, out var v60) ? v60 : null;
        var isPxe = vendor is not null && vendor.AsSpan().StartsWith(PxeClientPrefix);
        var isHttp = vendor is not null && vendor.AsSpan().StartsWith(HttpClientPrefix);

        ushort? arch = null;
        if (packet.TryGetOption(DhcpOptionCode.ClientSystemArchitecture, out var v93) && v93.Length >= 2)
        {
            // RFC 4578 §2.1: a list of 16-bit codes; the first is the one in use. An odd trailing byte is ignored.
            arch = BinaryPrimitives.ReadUInt16BigEndian(v93);
        }
        else if (vendor is not null)
        {
            arch = ArchitectureFromVendorClass(vendor);
        }

        (byte, byte)? undi = null;
        if (packet.TryGetOption(DhcpOptionCode.ClientNetworkInterface, out var v94) && v94.Length == 3 && v94[0] == 1)
            undi = (v94[1], v94[2]);

        Guid? uuid = null;
        byte[]? machineId = null;
        if (packet.TryGetOption(DhcpOptionCode.ClientMachineIdentifier, out var v97) && v97.Length == 17 && v97[0] == 0)
        {
            uuid = new Guid(v97.AsSpan(1, 16));
            machineId = v97;
        }

        var ipxe = packet.HasOption(DhcpOptionCode.IpxeEncapsulated)
            || (packet.TryGetOption(DhcpOptionCode.UserClass, out var v77) && UserClassContains(v77, IpxeUserClass));

        return new PxeClientInfo
        {
            IsPxeClient = isPxe,
            IsHttpClient = isHttp,
            Architecture = arch,
            UndiVersion = undi,
            Uuid = uuid,
            MachineIdentifier = machineId,
            IsIpxe = ipxe,
            VendorClass = vendor is null ? null : DhcpText.Printable(vendor, 64),
        };
    }

    /// <summary>"PXEClient:Arch:00007:UNDI:003016": five decimal digits after "Arch:" (PXE 2.1 §2.2.1). Anything
    /// else gives null.</summary>
    public static ushort? ArchitectureFromVendorClass(ReadOnlySpan<byte> vendor)
    {
        var marker = ":Arch:"u8;
        var at = vendor.IndexOf(marker);
        if (at < 0)
            return null;
        var digits = vendor[(at + marker.Length)..];
        if (digits.Length < 5)
            return null;
        var value = 0;
        for (var i = 0; i < 5; i++)
        {
            if (digits[i] is < (byte)'0' or > (byte)'9')
                return null;
            value = value * 10 + (digits[i] - '0');
        }
        if (digits.Length > 5 && digits[5] != (byte)':')
            return null;
        return value <= ushort.MaxValue ? (ushort)value : null;
    }

    /// <summary>
    /// RFC 3004 makes option 77 a list of length-prefixed strings; iPXE and many ROMs send the raw text instead
    /// ("iPXE"). Both forms are accepted: the counted walk must consume the option exactly, otherwise the value
    /// is compared as raw text (hostile-inputs D10).
    /// </summary>
    public static bool UserClassContains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> wanted)
    {
        if (value.SequenceEqual(wanted))
            return true;
        var i = 0;
        var found = false;
        while (i < value.Length)
        {
            int n = value[i];
            if (n == 0 || i + 1 + n > value.Length)
                return false;
            if (value.Slice(i + 1, n).SequenceEqual(wanted))
                found = true;
            i += 1 + n;
        }
        return found;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(IsHttpClient ? "HTTPClient" : IsPxeClient ? "PXEClient" : "client");
        text.Append(" arch ").Append(Architecture?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?");
        if (IsIpxe)
            text.Append(" iPXE");
        return text.ToString();
    }
}
