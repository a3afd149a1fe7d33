using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using PxeKit.Server.Hosting;

namespace PxeKit.Cli.Commands;

/// <summary><c>pxekit doctor dhcp</c>: which DHCP and proxyDHCP servers answer on an interface, and what they offer.</summary>
internal static class DoctorCommand
{
    private static readonly Option<string?> InterfaceOption = new("--interface")
    {
        Description = "Interface to send the DISCOVER on (e.g. eth0). Needs root: it binds UDP port 68.",
    };

    private static readonly Option<double?> WaitOption = new("--wait")
    {
        Description = "Seconds to collect answers (default 5: servers that ping before offering answer late).",
    };

    public static Command Create()
    {
        var dhcp = new Command("dhcp", "Send a PXE DISCOVER and list every DHCP and proxyDHCP server that answers, with what it offered.")
        {
            InterfaceOption, WaitOption,
        };
        dhcp.SetAction((parse, cancellation) => RunDhcpAsync(parse, cancellation));
        var doctor = new Command("doctor", "Check the network around a boot server.");
        doctor.Subcommands.Add(dhcp);
        return doctor;
    }

    private static async Task<int> RunDhcpAsync(ParseResult parse, CancellationToken cancellation)
    {
        var nic = parse.GetValue(InterfaceOption);
        var seconds = parse.GetValue(WaitOption) ?? DhcpNeighbours.DefaultWait.TotalSeconds;
        if (seconds is <= 0 or > 60)
        {
            await Console.Error.WriteLineAsync($"pxekit: --wait {seconds.ToString(CultureInfo.InvariantCulture)}: use 0.1 to 60 seconds");
            return 2;
        }
        if (nic is not null && !System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Any(n => n.Name == nic))
        {
            await Console.Error.WriteLineAsync($"pxekit: --interface {nic}: no network interface has this name (see `ip link`)");
            return 2;
        }
        IReadOnlyList<PxeKit.Protocols.Dhcp.DhcpServerAnswer> answers;
        try
        {
            answers = await DhcpNeighbours.ProbeAsync(nic, TimeSpan.FromSeconds(seconds), cancellation);
        }
        catch (SocketException e)
        {
            var hint = e.SocketErrorCode == SocketError.AccessDenied ? " (binding port 68 and an interface needs root)" : "";
            await Console.Error.WriteLineAsync($"pxekit: cannot send a DHCP DISCOVER on {nic ?? "the default interface"}: {e.Message}{hint}");
            return 1;
        }
        catch (PlatformNotSupportedException e)
        {
            await Console.Error.WriteLineAsync("pxekit: " + e.Message);
            return 1;
        }

        var lines = new List<string> { $"DHCP servers answering a PXE DISCOVER on {nic ?? "the default interface"} within {seconds.ToString(CultureInfo.InvariantCulture)} s:" };
        foreach (var answer in answers)
            lines.Add("  " + answer);
        var addressServers = answers.Where(a => !a.IsProxy).Select(a => a.Server.ToString()).Distinct().ToList();
        lines.Add(answers.Count == 0 ? "  none"
            : addressServers.Count == 0 ? "No server hands out addresses here: PXE clients get none (proxy mode needs one; or use --dhcp full)."
            : addressServers.Count == 1 ? $"Addresses come from {addressServers[0]}: run PxeKit as proxyDHCP (--dhcp proxy) beside it."
            : $"WARNING: {addressServers.Count} servers hand out addresses ({string.Join(", ", addressServers)}): clients get conflicting leases.");
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        return 0;
    }
}
