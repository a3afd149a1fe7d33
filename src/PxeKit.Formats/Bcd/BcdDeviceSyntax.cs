using System.Globalization;

namespace PxeKit.Formats.Bcd;

/// <summary>
/// bcdedit's textual device forms (spec §3.8): <c>boot</c>, <c>partition=…</c>, <c>locate=custom:12000002</c>,
/// <c>locate=\Windows</c>, <c>ramdisk=[boot]\sources\boot.wim,{ramdiskoptions}</c>, <c>file=[boot]\x</c>,
/// <c>vhd=[locate]\images\x.vhd</c>. bcdedit prints partitions as drive letters, which mean nothing offline;
/// we print and accept <c>partition={mbr:sig=43da9ab1,offset=0x100000}</c> and
/// <c>partition={gpt:disk=GUID,part=GUID}</c> instead.
/// </summary>
public static class BcdDeviceSyntax
{
    public static string Format(BcdDeviceElement element)
    {
        var text = Format(element.Device);
        if (element.Device is BcdDevice.Ramdisk && element.Options != Guid.Empty)
            text += "," + (BcdWellKnownObjects.AliasOf(element.Options) ?? BcdWellKnownObjects.Format(element.Options));
        return text;
    }

    public static string Format(BcdDevice device) => FormatDevice(device);

    /// <summary>What bcdedit would show of a path field: the text before the first NUL.</summary>
    private static string Shown(string path)
    {
        var nul = path.IndexOf('\0', StringComparison.Ordinal);
        return nul < 0 ? path : path[..nul];
    }

    private static string FormatDevice(BcdDevice device)
    {
        // Our own decoder bounds nesting (BcdDeviceElement.MaxNestingDepth), so this recursion is bounded too.
        switch (device)
        {
            case BcdDevice.Boot:
                return "boot";
            case BcdDevice.MbrPartition mbr:
                return $"partition={{mbr:sig={mbr.DiskSignature:x8},offset=0x{mbr.Offset:x}}}";
            case BcdDevice.GptPartition gpt:
                return $"partition={{gpt:disk={gpt.Disk:D},part={gpt.Partition:D}}}";
            case BcdDevice.Ramdisk ramdisk:
                return $"ramdisk=[{FormatParent(ramdisk.Parent, ramdisk.Path)}]{Shown(ramdisk.Path)}";
            case BcdDevice.File file:
                return $"file=[{FormatParent(file.Parent, file.Path)}]{Shown(file.Path)}";
            case BcdDevice.VirtualDisk { Image: BcdDevice.File image }:
                return $"vhd=[{FormatParent(image.Parent, image.Path)}]{Shown(image.Path)}";
            case BcdDevice.Locate { Kind: BcdLocateKind.ByElement, Parent: BcdDevice.VirtualDisk { Image: BcdDevice.File image } } vhd:
                return $"vhd=[{FormatParent(image.Parent, image.Path)}]{Shown(image.Path)},locate=custom:{vhd.ElementType:x8}";
            case BcdDevice.Locate locate:
                var text = locate.Kind == BcdLocateKind.ByElement
                    ? $"locate=custom:{locate.ElementType:x8}"
                    : "locate=" + Shown(locate.Path);
                return locate.Parent is null ? text : $"{text},[{Format(locate.Parent)}]";
            default:
                return "unknown";
        }
    }

    /// <summary>
    /// Parses a device as typed to bcdedit. <paramref name="elementType"/> decides which element a
    /// <c>vhd=</c> device locates its partition by (systemroot for osdevice, path otherwise), like bcdedit.
    /// </summary>
    public static BcdDeviceElement Parse(string text, uint elementType)
    {
        var value = text.Trim();
        if (value.Equals("boot", StringComparison.OrdinalIgnoreCase))
            return new BcdDeviceElement(new BcdDevice.Boot());
        if (TryStrip(value, "partition=", out var partition))
            return new BcdDeviceElement(ParsePartition(partition));
        if (TryStrip(value, "locate=", out var locate))
            return new BcdDeviceElement(ParseLocate(locate));
        if (value.Equals("locate", StringComparison.OrdinalIgnoreCase))
            return new BcdDeviceElement(new BcdDevice.Locate(BcdLocateKind.ByElement, LocateElementFor(elementType), "", null));
        if (TryStrip(value, "ramdisk=", out var ramdisk))
        {
            var options = Guid.Empty;
            var comma = ramdisk.LastIndexOf(',');
            if (comma >= 0 && ramdisk[(comma + 1)..].TrimStart().StartsWith('{'))
            {
                var optionsText = ramdisk[(comma + 1)..].Trim();
                if (!BcdIdentifiers.TryParse(optionsText, out options))
                    throw new BcdException($"'{optionsText}' is not a GUID or a well-known identifier like {{ramdiskoptions}}");
                ramdisk = ramdisk[..comma];
            }
            var (parent, path) = ParseBracketed(ramdisk, "ramdisk");
            return new BcdDeviceElement(new BcdDevice.Ramdisk(parent, path), options);
        }
        if (TryStrip(value, "file=", out var file))
        {
            var (parent, path) = ParseBracketed(file, "file");
            return new BcdDeviceElement(new BcdDevice.File(parent, path));
        }
        if (TryStrip(value, "vhd=", out var vhd))
        {
            var locateElement = LocateElementFor(elementType);
            var comma = vhd.IndexOf(",locate=", StringComparison.OrdinalIgnoreCase);
            if (comma >= 0)
            {
                var locator = ParseLocate(vhd[(comma + ",locate=".Length)..]);
                if (locator.Kind != BcdLocateKind.ByElement)
                    throw new BcdException("a vhd device can only be located by element (',locate=custom:XXXXXXXX')");
                locateElement = locator.ElementType;
                vhd = vhd[..comma];
            }
            var (parent, path) = ParseBracketed(vhd, "vhd");
            return new BcdDeviceElement(BcdDevice.Vhd(parent, path, locateElement));
        }
        throw new BcdException(
            $"'{text}' is not a device; use boot, partition={{mbr:sig=XXXXXXXX,offset=N}}, partition={{gpt:disk=GUID,part=GUID}}, " +
            "locate=custom:XXXXXXXX, locate=\\path, ramdisk=[boot]\\path,{ramdiskoptions}, file=[boot]\\path or vhd=[locate]\\path");
    }

    /// <summary>bcdedit locates osdevice by systemroot and everything else by path.</summary>
    private static uint LocateElementFor(uint elementType) =>
        elementType == BcdElementTypes.OsDevice ? BcdElementTypes.SystemRoot : BcdElementTypes.Path;

    private static string FormatParent(BcdDevice parent, string path) => parent switch
    {
        // "[locate]" means "the partition on which this very file exists" (pybcd BCDTest: vhd=[locate]\test.vhd).
        BcdDevice.Locate { Kind: BcdLocateKind.ByString, Parent: null } l when string.Equals(l.Path, path, StringComparison.OrdinalIgnoreCase) => "locate",
        _ => Format(parent),
    };

    private static (BcdDevice Parent, string Path) ParseBracketed(string text, string kind)
    {
        var value = text.Trim();
        var close = value.IndexOf(']', StringComparison.Ordinal);
        if (!value.StartsWith('[') || close < 0)
            throw new BcdException($"{kind}= needs a parent device in brackets, like {kind}=[boot]\\path");
        var parentText = value[1..close].Trim();
        var path = value[(close + 1)..].Trim();
        if (path.Length == 0 || path[0] != '\\')
            throw new BcdException($"the path after [{parentText}] must start with a backslash, got '{path}'");
        BcdDevice parent;
        if (parentText.Equals("boot", StringComparison.OrdinalIgnoreCase))
            parent = new BcdDevice.Boot();
        else if (parentText.Equals("locate", StringComparison.OrdinalIgnoreCase))
            parent = new BcdDevice.Locate(BcdLocateKind.ByString, 0, path, null);
        else if (TryStrip(parentText, "locate=", out var locate))
            parent = ParseLocate(locate);
        else if (TryStrip(parentText, "partition=", out var partition))
            parent = ParsePartition(partition);
        else
            throw new BcdException(
                $"parent device '[{parentText}]' is not supported offline; use [boot], [locate], [locate=\\path] or [partition={{mbr:...}}] (drive letters only mean something on the machine that has them)");
        return (parent, path);
    }

    private static BcdDevice.Locate ParseLocate(string text)
    {
        var value = text.Trim();
        if (TryStrip(value, "custom:", out var hex))
        {
            if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                hex = hex[2..];
            if (hex.Length is 0 or > 8 || !uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var element))
                throw new BcdException($"'custom:{hex}' is not an element type (eight hex digits, like custom:12000002)");
            return new BcdDevice.Locate(BcdLocateKind.ByElement, element, "", null);
        }
        if (value.StartsWith('\\'))
            return new BcdDevice.Locate(BcdLocateKind.ByString, 0, value, null);
        throw new BcdException($"'locate={text}' must be locate=custom:XXXXXXXX or locate=\\path");
    }

    private static BcdDevice ParsePartition(string text)
    {
        var value = text.Trim().TrimStart('{').TrimEnd('}');
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string style;
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
            throw new BcdException($"partition '{text}' must be {{mbr:sig=XXXXXXXX,offset=N}} or {{gpt:disk=GUID,part=GUID}} (drive letters need Windows)");
        style = value[..colon].Trim().ToLowerInvariant();
        foreach (var pair in value[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
                throw new BcdException($"partition field '{pair}' must be name=value");
            fields[pair[..equals].Trim()] = pair[(equals + 1)..].Trim().TrimStart('{').TrimEnd('}');
        }
        if (style == "mbr" && fields.TryGetValue("sig", out var sig) && fields.TryGetValue("offset", out var offset))
        {
            if (sig.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                sig = sig[2..];
            if (!uint.TryParse(sig, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var signature))
                throw new BcdException($"MBR disk signature '{sig}' is not 8 hex digits");
            return new BcdDevice.MbrPartition(signature, ParseNumber(offset, "partition offset"));
        }
        if (style == "gpt" && fields.TryGetValue("disk", out var disk) && fields.TryGetValue("part", out var part))
        {
            if (!Guid.TryParse(disk, out var diskId) || !Guid.TryParse(part, out var partId))
                throw new BcdException($"GPT disk '{disk}' and partition '{part}' must both be GUIDs");
            return new BcdDevice.GptPartition(diskId, partId);
        }
        throw new BcdException($"partition '{text}' must be {{mbr:sig=XXXXXXXX,offset=N}} or {{gpt:disk=GUID,part=GUID}}");
    }

    internal static ulong ParseNumber(string text, string what)
    {
        var value = text.Trim();
        var ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var number)
            : ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);
        return ok ? number : throw new BcdException($"{what} '{text}' is not a number (decimal, or hex with 0x)");
    }

    private static bool TryStrip(string value, string prefix, out string rest)
    {
        var ok = value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        rest = ok ? value[prefix.Length..] : "";
        return ok;
    }
}
