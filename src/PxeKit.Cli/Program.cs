using System.CommandLine;
using System.Reflection;
using PxeKit.Cli.Commands;

namespace PxeKit.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRootCommand().Parse(args).Invoke();

    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The whole command tree; tests parse against it exactly as the executable does.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand(
            "PxeKit: network-boot server (DHCP/proxyDHCP, TFTP, HTTP) and the tools that prepare what it boots.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }
}
