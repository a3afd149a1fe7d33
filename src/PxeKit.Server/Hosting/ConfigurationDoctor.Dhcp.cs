using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using PxeKit.Protocols.Dhcp;
using PxeKit.Server.Boot.Diagnosis;
using PxeKit.Server.Options;

namespace PxeKit.Server.Hosting;

public static partial class ConfigurationDoctor
{
    /// <summary>Check 6: other DHCP servers on the served segment, judged for the configured mode.</summary>
    private static async Task<IReadOnlyList<Finding>> CheckOtherDhcpServersAsync(PxeKitOptions options, DoctorSettings settings, CancellationToken cancellationToken)
    {
        const string subject = "other DHCP servers";
        var mode = options.Dhcp.Mode;
        var nic = settings.Interface ?? options.Dhcp.Interface;
        if (mode == DhcpMode.Off)
            return [Finding.Info(subject, "not looked for: DHCP is off (pxekit doctor dhcp --interface IF lists them)")];
        if (nic is null)
            return [Finding.Info(subject, "not looked for: no interface (give --interface or dhcp.interface)")];
        if (!NetworkInterface.GetAllNetworkInterfaces().Any(n => n.Name == nic))
            return [Finding.Error(subject, $"interface {nic}: no network interface has this name", "set dhcp.interface / --interface to one that `ip link` lists")];
        IReadOnlyList<DhcpServerAnswer> answers;
        try
        {
            answers = await DhcpNeighbours.ProbeAsync(nic, settings.DhcpWait, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException)
        {
            return [Finding.Warning(subject, $"could not send a DHCP DISCOVER on {nic}: {e.Message}",
                "run pxekit doctor as root (it binds udp 68 on the interface)")];
        }
        return JudgeDhcpAnswers(mode, nic, options.Dhcp.Server.ServerAddress, answers);
    }

    /// <summary>What the answers to a PXE DISCOVER mean for <paramref name="mode"/>, as `doctor dhcp` and the start
    /// of serve judge them. Answers from <paramref name="ourAddress"/> (a running pxekit) are left out.</summary>
    public static IReadOnlyList<Finding> JudgeDhcpAnswers(DhcpMode mode, string nic, IPAddress ourAddress, IReadOnlyList<DhcpServerAnswer> answers)
    {
        const string subject = "other DHCP servers";
        var findings = new List<Finding>();
        var others = answers.Where(a => !DhcpNeighbours.IsOurs(a, mode, ourAddress)).ToList();
        var addressServers = others.Where(a => !a.IsProxy).ToList();
        foreach (var answer in others)
        {
            if (answer.IsProxy)
            {
                findings.Add(Finding.Warning(subject, $"another proxyDHCP/boot server answers PXE clients on {nic}: {answer}",
                    "stop its PXE answers (dnsmasq: remove dhcp-boot/pxe-service), or PXE clients boot from whichever answers first"));
            }
            else if (mode == DhcpMode.Full)
            {
                findings.Add(Finding.Error(subject, $"another DHCP server hands out addresses on {nic}: {answer}",
                    "two DHCP servers on one segment give clients conflicting leases: stop one, or run PxeKit beside it with dhcp.mode: proxy"));
            }
            else
            {
                findings.Add(Finding.Ok(subject, $"addresses on {nic} come from {answer}; PxeKit adds the boot options (proxy mode)"));
            }
        }
        if (mode == DhcpMode.Proxy && addressServers.Count == 0)
        {
            findings.Add(Finding.Warning(subject, $"no DHCP server answered on {nic}: in proxy mode PXE clients still need one to get an address",
                "check the site's DHCP server reaches this segment (a relay?), or run PxeKit with dhcp.mode: full"));
        }
        if (mode == DhcpMode.Full && addressServers.Count == 0)
            findings.Add(Finding.Ok(subject, $"no other DHCP server answered on {nic}"));
        return findings;
    }
}
