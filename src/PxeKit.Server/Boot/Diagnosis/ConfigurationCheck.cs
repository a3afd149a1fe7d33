using System.Globalization;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Options;

namespace PxeKit.Server.Boot.Diagnosis;

/// <summary>
/// `pxekit doctor`'s checks of a configuration before anything boots: every boot file DHCP names and every file a
/// boot entry needs, looked up exactly as TFTP and HTTP will (remaps, backslashes, letter case, generated files);
/// BIOS binaries handed to UEFI clients and the reverse; BCD stores that will not open; pxelinux and memdisk files;
/// and boot policies that load but will stall or never be used. No sockets (ports and other DHCP servers are
/// checked in Hosting); the root is only read.
/// </summary>
public sealed partial class ConfigurationCheck
{
    private readonly PxeKitOptions _options;
    private readonly BootFileSystem _files;
    private readonly IReadOnlyDictionary<string, string> _installable;
    private readonly List<Finding> _findings = [];
    private BootFileSystem? _ignoringCase;

    private ConfigurationCheck(PxeKitOptions options, BootFileSystem files, IReadOnlyDictionary<string, string> installable)
    {
        _options = options;
        _files = files;
        _installable = installable;
    }

    /// <summary>Runs every check, in the order a client meets what is checked (DHCP boot file, then the entries).</summary>
    /// <param name="files">The boot file system of this configuration, as the server builds it (generated BCDs,
    /// remaps, letter case).</param>
    /// <param name="installable">Files <c>pxekit serve</c> copies into the root at start when missing: name in the
    /// root to the file it is copied from (Debian's ipxe, pxelinux and syslinux-common packages).</param>
    public static IReadOnlyList<Finding> Run(PxeKitOptions options, BootFileSystem files, IReadOnlyDictionary<string, string> installable)
    {
        var check = new ConfigurationCheck(options, files, installable);
        check.CheckDhcpBootFiles();
        check.CheckWindowsBcdPath();
        check.CheckIpxeScript();
        check.CheckEntries();
        check.CheckSyslinux();
        check.CheckPolicy();
        return check._findings;
    }

    private void Add(Finding finding) => _findings.Add(finding);

    private string RootText => _files.Root;

    private static bool IsUrl(string path) => path.Contains("://", StringComparison.Ordinal);

    private static bool IsTemplate(string path) => path.Contains("{{", StringComparison.Ordinal);

    /// <summary>Check 1 and 3: each architecture's boot file exists as TFTP resolves it and suits the firmware.</summary>
    private void CheckDhcpBootFiles()
    {
        if (_options.Dhcp.Mode == DhcpMode.Off)
        {
            Add(Finding.Info("dhcp.boot-files",
                "DHCP is off: your DHCP server names the boot files, so dhcp.boot-files is not used; checking the iPXE binaries in the root instead"));
            foreach (var name in IpxeBinaryNames)
            {
                var firmware = BootBinary.FromName(name);
                CheckBootFile($"iPXE {name}", name, firmware == BootBinaryFirmware.Efi ? ClientArchitecture.EfiX64 : ClientArchitecture.BiosX86,
                    who: $"{name}", missingIsError: false);
            }
            return;
        }
        foreach (var (architecture, file) in _options.Dhcp.Boot.Files.OrderBy(f => f.Key))
        {
            var who = BootBinary.DescribeArchitecture(architecture);
            var subject = "dhcp.boot-files " + ArchitectureKey(architecture);
            if (IsUrl(file))
            {
                Add(Finding.Ok(subject, $"{who} gets {file}: a URL, not checked"));
                continue;
            }
            CheckBootFile(subject, file, architecture, $"{who} gets {file}", missingIsError: true);
        }
    }

    /// <summary>The iPXE builds <c>pxekit serve</c> installs; the first is the BIOS one.</summary>
    private static readonly string[] IpxeBinaryNames = ["undionly.kpxe", "ipxe.efi", "snponly.efi"];

    private void CheckBootFile(string subject, string file, ushort architecture, string who, bool missingIsError)
    {
        // The name alone says undionly.kpxe is for BIOS: wrong whether or not the file is there yet.
        var wanted = BootBinary.FirmwareOf(architecture);
        var byName = BootBinary.FromName(file);
        if (wanted != BootBinaryFirmware.Unknown && byName != BootBinaryFirmware.Unknown && byName != wanted)
        {
            Add(Finding.Error(subject, $"{who}: {FirmwareWords(architecture)} clients would get a {FirmwareWords(byName)} binary",
                FixForWrongBinary(architecture)));
            return;
        }

        var lookup = _files.Resolve(file);
        byte[]? start;
        string shownName;
        string found;
        if (lookup.IsFound)
        {
            start = BootBinary.ReadStart(lookup);
            shownName = lookup.MappedName ?? file;
            found = $"found as {shownName}" + (lookup.MatchedIgnoringCase ? " (matched ignoring letter case)" : "");
        }
        else if (Installable(file) is { } source)
        {
            start = BootBinary.ReadStart(new BootFileLookup(BootFileStatus.Found, source, source, source, false, null));
            shownName = source;
            found = $"not in {RootText} yet; pxekit serve copies it from {source} at start";
        }
        else
        {
            if (missingIsError)
            {
                ReportMissing(subject, who, lookup, $"put {file} in {RootText} (Debian's ipxe package has undionly.kpxe, ipxe.efi and snponly.efi in /usr/lib/ipxe), or change dhcp.boot-files");
            }
            else
            {
                Add(Finding.Warning(subject, $"{who}: not in {RootText} and not in {_options.Ipxe.SourceDirectory}",
                    $"install Debian's ipxe package (pxekit serve copies it at start) or put {file} in {RootText}; clients sent to it get 'file not found'"));
            }
            return;
        }

        var byContent = start is null ? BootBinaryFirmware.Unknown : BootBinary.FromContent(start);
        if (wanted != BootBinaryFirmware.Unknown && byContent != BootBinaryFirmware.Unknown && byContent != wanted)
        {
            var what = byContent == BootBinaryFirmware.Efi ? "is a PE/UEFI image (starts with MZ)" : "is no PE/UEFI image (it does not start with MZ)";
            Add(Finding.Error(subject, $"{who}: {shownName} {what}, but {FirmwareWords(architecture)} clients need a {FirmwareWords(wanted)} binary",
                FixForWrongBinary(architecture)));
            return;
        }
        if (wanted == BootBinaryFirmware.Efi && start is not null && BootBinary.PeMachine(start) is { } machine
            && BootBinary.BuildArchOf(architecture) is { } needed && machine != needed)
        {
            Add(Finding.Error(subject, $"{who}: {shownName} is a UEFI {machine} image; {BootBinary.DescribeArchitecture(architecture)} clients need {needed}",
                FixForWrongBinary(architecture)));
            return;
        }
        Add(Finding.Ok(subject, $"{who}: {found}"));
    }

    private static string FirmwareWords(ushort architecture) =>
        architecture == 0 ? "BIOS" : BootBinary.DescribeArchitecture(architecture).Split(" (")[0];

    private static string FirmwareWords(BootBinaryFirmware firmware) => firmware == BootBinaryFirmware.Efi ? "UEFI" : "BIOS";

    private static string FixForWrongBinary(ushort architecture) =>
        architecture == 0
            ? "give BIOS clients a BIOS build: dhcp.boot-files.bios: undionly.kpxe"
            : $"give {FirmwareWords(architecture)} clients a UEFI build for their CPU: dhcp.boot-files.{ArchitectureKey(architecture)}: ipxe.efi (or snponly.efi)";

    /// <summary>The pxekit.yaml key of an architecture code ("efi-x64" for 7 and 9), or the number.</summary>
    private static string ArchitectureKey(ushort architecture)
    {
        foreach (var (name, codes) in DhcpBootOptions.ArchitectureNames)
        {
            if (codes.Contains(architecture))
                return name;
        }
        return architecture.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Option 252: the BCD Windows bootmgr asks for over TFTP, per architecture.</summary>
    private void CheckWindowsBcdPath()
    {
        if (_options.Dhcp.Mode == DhcpMode.Off || _options.Dhcp.Boot.WindowsBcdPath is not { } pattern)
            return;
        foreach (var architecture in _options.Dhcp.Boot.Files.Keys.Order())
        {
            var path = pattern.Replace("{arch}", architecture.ToString("D5", CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var who = $"Windows bootmgr on {BootBinary.DescribeArchitecture(architecture)} asked for {path}";
            var lookup = _files.Resolve(path);
            if (!lookup.IsFound)
            {
                ReportMissing("dhcp.windows-bcd-path", who, lookup, $"put the BCD store at {path} (pxekit bcd winpe can write one) or change dhcp.windows-bcd-path");
                continue;
            }
            CheckBcd("dhcp.windows-bcd-path", who, lookup, needsRamdisk: false);
        }
    }

    /// <summary>What iPXE gets from DHCP instead of its own binary again.</summary>
    private void CheckIpxeScript()
    {
        if (_options.Dhcp.Mode == DhcpMode.Off)
            return;
        var script = _options.Dhcp.Boot.IpxeScript;
        const string subject = "dhcp.ipxe-script";
        if (IsUrl(script))
        {
            Add(Finding.Ok(subject, $"iPXE gets {script}: a URL, not checked"));
            return;
        }
        if (!_options.Http.Enabled)
        {
            Add(Finding.Error(subject, $"iPXE is sent to http://SERVER/{script.TrimStart('/')}, but HTTP is off",
                "turn HTTP on (http.enabled: true, or drop --http-port 0), or set dhcp.ipxe-script to a URL on another server"));
            return;
        }
        if (_options.Boot is not null)
        {
            Add(Finding.Ok(subject, $"iPXE gets {script}: made per client by the boot policy (boot:)"));
            return;
        }
        var lookup = _files.Resolve(script);
        if (lookup.IsFound)
        {
            Add(Finding.Ok(subject, $"iPXE gets {script}: found as {lookup.MappedName}"));
            return;
        }
        if (_options.Ipxe.WriteDefaultScript && string.Equals(script.TrimStart('/'), "boot.ipxe", StringComparison.Ordinal))
        {
            Add(Finding.Ok(subject, $"iPXE gets {script}: not in {RootText} yet; pxekit serve writes a default menu at start"));
            return;
        }
        ReportMissing(subject, $"iPXE gets {script}", lookup, $"write an iPXE script at {Path.Join(RootText, script)}, or add a boot: section to pxekit.yaml");
    }

    /// <summary>The source <c>pxekit serve</c> copies <paramref name="name"/> from when it exists there, else null.</summary>
    private string? Installable(string name)
    {
        var key = name.Replace('\\', '/').TrimStart('/');
        return _installable.TryGetValue(key, out var source) && File.Exists(source) ? source : null;
    }

    /// <summary>Not found or refused, saying when only the letter case or a backslash in a file's own name is wrong.</summary>
    private void ReportMissing(string subject, string who, BootFileLookup lookup, string fix)
    {
        if (lookup.Status == BootFileStatus.Refused)
        {
            Add(Finding.Error(subject, $"{who}: refused ({lookup.Reason})", fix));
            return;
        }
        if (FileNaming.Explain(_files, IgnoringCase, lookup) is { } explained)
        {
            Add(Finding.Error(subject, $"{who}: not found; {explained.Message}", explained.Fix));
            return;
        }
        Add(Finding.Error(subject, $"{who}: not in {RootText}", fix));
    }

    private BootFileSystem IgnoringCase => _ignoringCase ??= _files.IgnoringCase();
}
