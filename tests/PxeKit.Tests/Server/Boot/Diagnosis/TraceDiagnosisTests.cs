using System.Net;
using PxeKit.Server.Boot;
using PxeKit.Server.Boot.Diagnosis;

namespace PxeKit.Tests.Server.Boot.Diagnosis;

/// <summary>The trace rules against hand-built event lists: each rule's failing boot, and a boot it must leave alone.</summary>
public sealed class TraceDiagnosisTests : IDisposable
{
    private const string Mac = "52:54:00:12:34:56";
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 9, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress Address = IPAddress.Parse("192.0.2.50");
    private readonly DiagnosisRoot root = new();

    public void Dispose() => root.Dispose();

    private static BootClient Uefi => new() { Mac = Mac, Architecture = 7 };

    private static BootClient Bios => new() { Mac = Mac, Architecture = 0 };

    private static BootEvent At(int seconds, BootEventKind kind, string? requested = null, string? served = null, long bytes = 0, string? detail = null) =>
        new(Start.AddSeconds(seconds), kind, Mac, Address, requested, served, bytes, Detail: detail);

    private BootFileSystem Files(bool caseInsensitive) => new(root.Root, [], caseInsensitive);

    [Fact]
    public void Not_found_for_a_file_that_exists_in_another_letter_case_says_which_and_how_to_fix()
    {
        root.Write("boot/bcd");
        var findings = TraceDiagnosis.Explain(Uefi, [At(0, BootEventKind.TftpNotFound, @"\Boot\BCD")], Files(caseInsensitive: false));
        var finding = findings.Single(FindingSeverity.Error,
            @"52:54:00:12:34:56 (UEFI x64) asked for \Boot\BCD: not found; boot/bcd exists - enable case-insensitive lookup (tftp.case-insensitive: true) or rename boot/bcd to Boot/BCD");
        Assert.Equal(Mac, finding.Subject);
    }

    [Fact]
    public void Not_found_for_a_file_with_backslashes_in_its_own_name_says_to_rename_it()
    {
        root.Write(@"Boot\BCD");
        TraceDiagnosis.Explain(Uefi, [At(0, BootEventKind.TftpNotFound, @"\Boot\BCD")], Files(caseInsensitive: true))
            .Single(FindingSeverity.Error, @"a file named 'Boot\BCD' exists, with the backslashes in its own name");
    }

    [Fact]
    public void Not_found_for_a_file_that_is_nowhere_is_not_explained_as_a_naming_problem() =>
        TraceDiagnosis.Explain(Uefi, [At(0, BootEventKind.HttpNotFound, "/nothing/here"), At(1, BootEventKind.HttpServed, "/boot.ipxe", "boot.ipxe")], Files(false))
            .None(FindingSeverity.Error);

    [Fact]
    public void A_bios_binary_offered_to_a_uefi_client_is_an_error()
    {
        var events = new[] { At(0, BootEventKind.DhcpDiscover), At(1, BootEventKind.ProxyOffer, served: "undionly.kpxe") };
        TraceDiagnosis.Explain(Uefi, events, Files(true)).Single(FindingSeverity.Error, "client got undionly.kpxe but is UEFI x64");
    }

    [Fact]
    public void An_efi_binary_acknowledged_to_a_bios_client_is_an_error_and_the_right_one_is_not()
    {
        TraceDiagnosis.Explain(Bios, [At(0, BootEventKind.DhcpAck, served: "ipxe.efi")], Files(true))
            .Single(FindingSeverity.Error, "client got ipxe.efi but is BIOS");
        TraceDiagnosis.Explain(Uefi, [At(0, BootEventKind.DhcpAck, served: "ipxe.efi"), At(1, BootEventKind.TftpServed, "ipxe.efi", "ipxe.efi")], Files(true))
            .None(FindingSeverity.Error);
    }

    [Fact]
    public void The_same_ipxe_binary_fetched_three_times_in_a_short_time_is_an_ipxe_loop()
    {
        var events = new List<BootEvent>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(At(i * 20, BootEventKind.ProxyOffer, served: "ipxe.efi"));
            events.Add(At(i * 20 + 1, BootEventKind.TftpServed, "ipxe.efi", "ipxe.efi", 1_000_000));
        }
        var finding = TraceDiagnosis.Explain(Uefi, events, Files(true)).Single(FindingSeverity.Error, "iPXE loop: 52:54:00:12:34:56 (UEFI x64) fetched ipxe.efi 3 times in 40 s");
        Assert.Contains("set dhcp.ipxe-script or make the DHCP server match user class iPXE", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Three_fetches_hours_apart_are_reboots_not_a_loop()
    {
        var events = Enumerable.Range(0, 3).Select(i => At(i * 3600, BootEventKind.TftpServed, "ipxe.efi", "ipxe.efi")).ToList();
        Assert.DoesNotContain(TraceDiagnosis.Explain(Uefi, events, Files(true)), f => f.Message.Contains("iPXE loop", StringComparison.Ordinal));
    }

    [Fact]
    public void Transfers_failing_midway_repeatedly_suggest_smaller_blocks()
    {
        var events = new[]
        {
            At(0, BootEventKind.TftpFailed, @"\sources\boot.wim", "sources/boot.wim", 1_048_576, "client stopped answering"),
            At(30, BootEventKind.TftpFailed, @"\sources\boot.wim", "sources/boot.wim", 2_097_152, "client stopped answering"),
            At(60, BootEventKind.TftpServed, "other", "other"),
        };
        var finding = TraceDiagnosis.Explain(Uefi, events, Files(true))
            .Single(FindingSeverity.Warning, "the TFTP transfer of sources/boot.wim failed midway 2 times, the last after 2097152 bytes (last: client stopped answering)");
        Assert.Contains("tftp.max-block-size", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("MTU", finding.Fix, StringComparison.Ordinal);

        Assert.DoesNotContain(TraceDiagnosis.Explain(Uefi, events[1..], Files(true)), f => f.Severity == FindingSeverity.Warning);
    }

    [Fact]
    public void A_boot_that_ends_with_the_boot_file_sent_is_noted()
    {
        var events = new[] { At(0, BootEventKind.ProxyOffer, served: "ipxe.efi"), At(1, BootEventKind.TftpServed, "ipxe.efi", "ipxe.efi") };
        TraceDiagnosis.Explain(Uefi, events, Files(true)).Single(FindingSeverity.Info, "the boot ends at 2026-11-03 09:00:01 after ipxe.efi was sent; nothing was asked for after it");

        var continued = events.Append(At(3, BootEventKind.ScriptRendered, "/boot.ipxe", "menu main")).ToArray();
        var findings = TraceDiagnosis.Explain(Uefi, continued, Files(true));
        Assert.DoesNotContain(findings, f => f.Message.Contains("the boot ends", StringComparison.Ordinal));
        findings.Single(FindingSeverity.Ok, "nothing wrong found");
    }

    [Fact]
    public void A_boot_file_offered_and_never_fetched_is_noted() =>
        TraceDiagnosis.Explain(Bios, [At(0, BootEventKind.DhcpOffer, served: "undionly.kpxe")], Files(true))
            .Single(FindingSeverity.Info, "with DHCP naming undionly.kpxe; the client never asked for it");
}
