using System.Globalization;

namespace PxeKit.Server.Boot.Diagnosis;

/// <summary>
/// Explains a client's boot trace the way someone who has debugged many PXE boots would: a file that exists under
/// another letter case, a BIOS binary handed to a UEFI machine, iPXE chain-loading itself, transfers that die
/// midway, a boot that stops after the boot file. A pure function of the events and the boot root.
/// </summary>
public static class TraceDiagnosis
{
    /// <summary>How many fetches of the same iPXE binary make a loop: iPXE fetched once by the ROM is normal, a
    /// second may be a reboot, a third in a short time is the DHCP server handing iPXE its own binary.</summary>
    public const int LoopFetches = 3;

    /// <summary>The time the <see cref="LoopFetches"/> fetches must fall in: a loop repeats within seconds, while a
    /// machine rebooted on purpose takes minutes.</summary>
    public static readonly TimeSpan LoopWindow = TimeSpan.FromMinutes(5);

    /// <summary>Failed transfers of one file that make a pattern rather than a one-off.</summary>
    public const int RepeatedFailures = 2;

    public static IReadOnlyList<Finding> Explain(BootClient client, IReadOnlyList<BootEvent> events, BootFileSystem files)
    {
        var ordered = events.OrderBy(e => e.Time).ToList();
        var who = Describe(client);
        var findings = new List<Finding>();
        if (ordered.Count == 0)
        {
            findings.Add(Finding.Info(client.Mac, $"{who}: no boot events recorded"));
            return findings;
        }
        NotFoundUnderAnotherName(who, client, ordered, files, findings);
        WrongFirmwareBinary(who, client, ordered, findings);
        IpxeLoop(who, client, ordered, findings);
        RepeatedFailedTransfers(who, client, ordered, findings);
        StopsAfterBootFile(who, client, ordered, findings);
        if (findings.Count == 0)
            findings.Add(Finding.Ok(client.Mac, $"{who}: {ordered.Count} events, nothing wrong found"));
        return findings;
    }

    /// <summary>"52:54:00:12:34:56 (UEFI x64)", or with the host name when the configuration gives one.</summary>
    private static string Describe(BootClient client)
    {
        var arch = client.Architecture is { } code ? BootBinary.DescribeArchitecture(code).Split(" (")[0] : null;
        var name = client.Hostname is null ? client.Mac : $"{client.Hostname} {client.Mac}";
        return arch is null ? name : $"{name} ({arch})";
    }

    /// <summary>Rule (a): not found, but the file is there under another letter case or with backslashes in its name.</summary>
    private static void NotFoundUnderAnotherName(string who, BootClient client, List<BootEvent> events, BootFileSystem files, List<Finding> findings)
    {
        BootFileSystem? ignoringCase = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Kind is not (BootEventKind.TftpNotFound or BootEventKind.HttpNotFound) || e.Requested is not { } requested || !seen.Add(requested))
                continue;
            var lookup = files.Resolve(requested);
            if (lookup.IsFound)
            {
                findings.Add(Finding.Info(client.Mac, $"{who} asked for {requested}: not found at {Time(e)}; it is found now as {lookup.MappedName}"));
                continue;
            }
            ignoringCase ??= files.IgnoringCase();
            if (FileNaming.Explain(files, ignoringCase, lookup) is { } explained)
                findings.Add(Finding.Error(client.Mac, $"{who} asked for {requested}: not found; {explained.Message}", explained.Fix));
        }
    }

    /// <summary>Rule (b): a DHCP answer named a boot file built for the other firmware.</summary>
    private static void WrongFirmwareBinary(string who, BootClient client, List<BootEvent> events, List<Finding> findings)
    {
        var seen = new HashSet<(string, ushort)>();
        foreach (var e in events)
        {
            if (e.Kind is not (BootEventKind.DhcpOffer or BootEventKind.DhcpAck or BootEventKind.ProxyOffer) || e.Served is not { Length: > 0 } bootFile)
                continue;
            if (client.Architecture is not { } architecture)
                continue;
            var wanted = BootBinary.FirmwareOf(architecture);
            var got = BootBinary.FromName(bootFile);
            if (wanted == BootBinaryFirmware.Unknown || got == BootBinaryFirmware.Unknown || got == wanted || !seen.Add((bootFile, architecture)))
                continue;
            var arch = BootBinary.DescribeArchitecture(architecture).Split(" (")[0];
            var fix = wanted == BootBinaryFirmware.Efi
                ? $"give architecture {architecture} a UEFI build: dhcp.boot-files.{(architecture is 7 or 9 ? "efi-x64" : architecture.ToString(CultureInfo.InvariantCulture))}: ipxe.efi (or the matching filename rule on your DHCP server)"
                : "give BIOS clients a BIOS build: dhcp.boot-files.bios: undionly.kpxe (or the matching filename rule on your DHCP server)";
            findings.Add(Finding.Error(client.Mac, $"{who}: client got {bootFile} but is {arch}", fix));
        }
    }

    /// <summary>Rule (c): the same iPXE binary fetched <see cref="LoopFetches"/> times within <see cref="LoopWindow"/>.</summary>
    private static void IpxeLoop(string who, BootClient client, List<BootEvent> events, List<Finding> findings)
    {
        var fetches = events
            .Where(e => e.Kind is BootEventKind.TftpServed or BootEventKind.HttpServed && (e.Served ?? e.Requested) is { } name && BootBinary.IsIpxeBinary(name))
            .GroupBy(e => Path.GetFileName((e.Served ?? e.Requested)!.Replace('\\', '/')), StringComparer.OrdinalIgnoreCase);
        foreach (var binary in fetches)
        {
            var times = binary.Select(e => e.Time).ToList();
            for (var i = 0; i + LoopFetches - 1 < times.Count; i++)
            {
                var span = times[i + LoopFetches - 1] - times[i];
                if (span > LoopWindow)
                    continue;
                var start = times[i];
                var window = times.Where(t => t >= start && t - start <= LoopWindow).ToList();
                findings.Add(Finding.Error(client.Mac,
                    $"iPXE loop: {who} fetched {binary.Key} {window.Count} times in {Seconds(window[^1] - start)}",
                    "DHCP hands iPXE its own binary again: set dhcp.ipxe-script or make the DHCP server match user class iPXE (dnsmasq: dhcp-userclass=set:ipxe,iPXE; ISC: if exists user-class and option user-class = \"iPXE\")"));
                break;
            }
        }
    }

    /// <summary>Rule (d): transfers of one file that started and died, more than once.</summary>
    private static void RepeatedFailedTransfers(string who, BootClient client, List<BootEvent> events, List<Finding> findings)
    {
        foreach (var file in events.Where(e => e.Kind == BootEventKind.TftpFailed).GroupBy(e => e.Served ?? e.Requested ?? "?", StringComparer.Ordinal))
        {
            var failures = file.ToList();
            if (failures.Count < RepeatedFailures)
                continue;
            var last = failures[^1];
            var detail = last.Detail is { Length: > 0 } d ? $" (last: {d})" : "";
            var where = last.Bytes > 0 ? $", the last after {last.Bytes} bytes" : "";
            findings.Add(Finding.Warning(client.Mac,
                $"{who}: the TFTP transfer of {file.Key} failed midway {failures.Count} times{where}{detail}",
                "large blocks lost on the way are the usual cause: lower tftp.max-block-size (1468 fits a 1500-byte MTU, 1432 leaves room for a VLAN or VPN), check the MTU of every link to the client, and for Windows lower ramdisktftpblocksize in the BCD (pxekit bcd set ... ramdisktftpblocksize 1456)"));
        }
    }

    /// <summary>Rule (e): the last thing that happened was the boot file (offered or sent), and nothing came after.</summary>
    private static void StopsAfterBootFile(string who, BootClient client, List<BootEvent> events, List<Finding> findings)
    {
        var last = events[^1];
        var offered = events.LastOrDefault(e => e.Kind is BootEventKind.DhcpOffer or BootEventKind.DhcpAck or BootEventKind.ProxyOffer && e.Served is { Length: > 0 })?.Served;
        if (last.Kind is BootEventKind.DhcpOffer or BootEventKind.DhcpAck or BootEventKind.ProxyOffer && last.Served is { Length: > 0 } bootFile
            && !bootFile.Contains("://", StringComparison.Ordinal))
        {
            findings.Add(Finding.Info(client.Mac, $"{who}: the boot ends at {Time(last)} with DHCP naming {bootFile}; the client never asked for it",
                "a client that gets a boot file and never fetches it usually cannot reach TFTP: check next-server (dhcp.next-server), a firewall on udp 69, or that the server address is on the client's network"));
            return;
        }
        if (last.Kind is BootEventKind.TftpServed or BootEventKind.HttpServed && offered is not null && (last.Served ?? last.Requested) is { } served
            && SameFile(served, offered))
        {
            findings.Add(Finding.Info(client.Mac, $"{who}: the boot ends at {Time(last)} after {served} was sent; nothing was asked for after it",
                "watch the client's screen: the boot file may have been refused (Secure Boot and an unsigned binary, the wrong architecture) or it booted from something local"));
        }
    }

    private static bool SameFile(string served, string offered) =>
        string.Equals(Path.GetFileName(served.Replace('\\', '/')), Path.GetFileName(offered.Replace('\\', '/')), StringComparison.OrdinalIgnoreCase);

    private static string Time(BootEvent e) => e.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s";
}
