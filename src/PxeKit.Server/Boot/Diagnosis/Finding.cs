namespace PxeKit.Server.Boot.Diagnosis;

/// <summary>How bad a finding is; <see cref="Error"/> means some client will not boot (and `pxekit doctor` exits 1).</summary>
public enum FindingSeverity
{
    /// <summary>Checked and right, or deliberately not checked (a URL) with the reason.</summary>
    Ok,

    /// <summary>Worth knowing, not a fault (a check that was skipped, where a boot stopped).</summary>
    Info,

    /// <summary>Works today but will surprise someone (an entry nothing boots, a port that needs root).</summary>
    Warning,

    /// <summary>A client will fail to boot.</summary>
    Error,
}

/// <summary>One line of `pxekit doctor`: what was looked at, what was found, and what to do, in a sysadmin's words.</summary>
/// <param name="Subject">What was checked: "dhcp.boot-files efi-x64", "entry winpe (efi)", "udp 69".</param>
/// <param name="Message">What was found, one sentence.</param>
/// <param name="Fix">What to change, or null when nothing needs doing.</param>
public sealed record Finding(FindingSeverity Severity, string Subject, string Message, string? Fix = null)
{
    public static Finding Ok(string subject, string message) => new(FindingSeverity.Ok, subject, message);

    public static Finding Info(string subject, string message, string? fix = null) => new(FindingSeverity.Info, subject, message, fix);

    public static Finding Warning(string subject, string message, string fix) => new(FindingSeverity.Warning, subject, message, fix);

    public static Finding Error(string subject, string message, string fix) => new(FindingSeverity.Error, subject, message, fix);
}
